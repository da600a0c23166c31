"""The style losses (Gram, W2, sliced Wasserstein): reference values, float64 gradchecks,
zero self-distance, blends, size invariance, weight maps, and a real small run of each."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.yardstick import Yardstick
from style_core import stylize
from style_core.engine.network import network
from style_core.engine.style_losses import STYLE_LOSSES, MeanStyleLoss, StyleLoss, blend
from style_core.engine.style_losses.sliced import (
    DETAIL_DIRECTION_SHARE,
    QUANTILE_LEVELS,
    SlicedLoss,
    levels_of,
    quantile_bins,
    quantiles_at,
    sort_order,
    transported,
)
from style_core.engine.style_losses.w2 import REGULARIZATION, W2Loss, trace_sqrt
from style_core.image import load_image, resize, size_for_long_side

NAMES = sorted(STYLE_LOSSES)
#: Repeatable property tests: the same examples on every run, no example database on disk.
PROPERTIES = settings(max_examples=40, deadline=None, derandomize=True, database=None)
MEAN_TYPE = [name for name in NAMES if issubclass(STYLE_LOSSES[name], MeanStyleLoss)]


def make(name: str, channels: int, seed: int = 0) -> StyleLoss:
    return STYLE_LOSSES[name](channels, torch.Generator().manual_seed(seed))


def features(channels: int = 4, height: int = 5, width: int = 6, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    """Non-negative random features, like a ReLU layer's."""
    return torch.rand(1, channels, height, width, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def assert_stats_close(a: dict, b: dict, **tolerance) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], **tolerance)


def test_registry_matches_the_settings_choices():
    from style_core.settings import SPECS

    assert set(STYLE_LOSSES) == set(SPECS["style_loss"].choices)
    assert MEAN_TYPE == ["gram", "w2"]


# --- reference values


def test_w2_of_diagonal_gaussians_is_the_closed_form():
    loss = make("w2", 3)
    mean_a, var_a = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 4.0, 9.0])
    mean_b, var_b = torch.tensor([1.0, 1.0, 0.0]), torch.tensor([4.0, 1.0, 9.0])

    def stats(mean, var):
        return {"mean": mean, "moment": torch.diag(var) + torch.outer(mean, mean)}

    eps = REGULARIZATION * var_b.mean()
    expected = (mean_a - mean_b).square().sum() + ((var_a + eps).sqrt() - (var_b + eps).sqrt()).square().sum()
    assert loss.compare(stats(mean_a, var_a), stats(mean_b, var_b)).item() == pytest.approx(expected.item(), rel=1e-4)


def test_trace_sqrt_of_a_known_matrix():
    # eigenvalues 1 and 9 in a rotated basis: tr √A = 1 + 3
    rotation = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    matrix = rotation @ torch.diag(torch.tensor([1.0, 9.0], dtype=torch.float64)) @ rotation.T
    assert trace_sqrt(matrix).item() == pytest.approx(4.0)


def test_sliced_distance_in_one_dimension_is_w2_of_sorted_values():
    loss = make("sliced", 1)
    x, y = features(1, 2, 4, seed=1), features(1, 2, 4, seed=2) * 3
    expected = (x.flatten().sort().values - y.flatten().sort().values).square().mean()
    assert loss.distance(x, loss.statistics(y)).item() == pytest.approx(expected.item(), rel=1e-5)


def test_scales_are_geometric_means_of_the_energies():
    content = features(seed=1)
    style = content * 2  # energies 4 (W2, sliced) or 16 (Gram) times the content's: above the floor
    for name in NAMES:
        loss = make(name, 4)
        c, s = loss.statistics(content), loss.statistics(style)
        assert loss.scale(c, s).item() == pytest.approx(loss.scale(s, c).item(), rel=1e-5), name
        # the energies are quadratic (W2, sliced) or quartic (Gram) in the features
        power = 4 if name == "gram" else 2
        assert loss.scale(c, s).item() == pytest.approx(math.sqrt(2**power) * loss.scale(c, c).item(), rel=1e-5), name
        floored = loss.scale(loss.statistics(torch.zeros_like(content)), s)
        assert floored.item() == pytest.approx(0.1 * loss.scale(s, s).item(), rel=1e-5), name


# --- gradients


def test_trace_sqrt_gradient_in_float64_also_for_repeated_eigenvalues():
    root = torch.rand(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    spd = (root @ root.T + 0.1 * torch.eye(5, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(trace_sqrt, (spd,))
    assert torch.autograd.gradcheck(trace_sqrt, (torch.eye(4, dtype=torch.float64).requires_grad_(),))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_distance_gradient_in_float64(name, weighted):
    loss = make(name, 3)
    target = loss.statistics(features(3, 4, 5, seed=1, dtype=torch.float64) * 2)
    weight = features(1, 3, 4, seed=3, dtype=torch.float64) if weighted else None
    x = features(3, 3, 4, seed=2, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda f: loss.distance(f, target, weight), (x,))


@pytest.mark.parametrize("name", MEAN_TYPE)
def test_distance_is_compare_of_statistics_and_compare_has_a_gradient(name):
    loss = make(name, 3)
    target = loss.statistics(features(3, seed=1, dtype=torch.float64) * 2)
    x = features(3, seed=2, dtype=torch.float64)
    weight = features(1, seed=3, dtype=torch.float64)
    assert loss.distance(x, target, weight).item() == pytest.approx(
        loss.compare(loss.statistics(x, weight), target).item()
    )
    stats = {key: value.detach().requires_grad_() for key, value in loss.statistics(x).items()}
    assert torch.autograd.gradcheck(
        lambda *v: loss.compare(dict(zip(stats, v, strict=True)), target), tuple(stats.values())
    )


# --- zero distance, blends, size


@pytest.mark.parametrize("name", NAMES)
def test_zero_distance_to_its_own_statistics(name):
    # 16x16 = 256 positions: fewer than the sliced loss's levels, whose bins then hold them exactly
    x = features(4, 16, 16, seed=4) * 3
    loss = make(name, 4)
    stats = loss.statistics(x)
    distance = loss.distance(x, stats).item()
    other = loss.distance(features(4, 16, 16, seed=5) * 3, stats).item()
    assert abs(distance) < 1e-5 * other, (distance, other)


def test_sliced_self_distance_is_small_with_more_positions_than_levels():
    x = features(4, 64, 64, seed=4)  # 4096 positions for 1024 levels
    loss = make("sliced", 4)
    stats = loss.statistics(x)
    assert loss.distance(x, stats).item() < 1e-4 * loss.scale(stats, stats).item()
    assert stats["quantiles"].shape[1] == QUANTILE_LEVELS


def _rows(seed: int, rows: int, count: int, ties: bool) -> torch.Tensor:
    """``(rows, count)`` values; with ``ties``, a ReLU's zeros and values on a coarse grid."""
    values = torch.randn(rows, count, generator=torch.Generator().manual_seed(seed))
    return (values.relu() * 4).round() / 4 if ties else values


@PROPERTIES
@given(
    seed=st.integers(0, 2**16),
    rows=st.integers(1, 3),
    count=st.integers(1, 3000),
    levels=st.sampled_from([1, 7, 64, 1024]),
    ties=st.booleans(),
)
def test_sliced_bins_of_equal_masses_are_those_of_the_weighted_path(seed, rows, count, levels, ties):
    # a plain sort with the knots at k/N against argsort, cumulative masses and a search
    values = _rows(seed, rows, count, ties)
    equal = torch.full((count,), 1.0 / count)
    torch.testing.assert_close(
        quantile_bins(values, None, levels), quantile_bins(values, equal, levels), rtol=1e-5, atol=1e-5
    )


@PROPERTIES
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 3), count=st.integers(1, 2000), ties=st.booleans())
def test_sliced_transport_is_the_target_at_the_level_in_the_source(seed, rows, count, ties):
    # numpy's interpolation against levels_of then quantiles_at: ties in the source's bins (a
    # ReLU's zeros), values tied with them and values beyond both ends
    source = quantile_bins(_rows(seed, rows, 3000, ties), None, 256)
    target = quantile_bins(_rows(seed + 1, rows, 3000, False) * 3, None, 256)
    values = _rows(seed + 2, rows, count, ties) * 1.5
    expected = quantiles_at(target, levels_of(source, values))
    torch.testing.assert_close(transported(values, source, target), expected, rtol=1e-4, atol=1e-4)


@PROPERTIES
@given(
    rows=st.integers(1, 60).flatmap(
        lambda count: st.lists(
            st.lists(st.floats(width=32, allow_nan=False), min_size=count, max_size=count), min_size=1, max_size=4
        )
    ),
)
def test_sort_order_is_a_stable_argsort(rows):
    # float32 as 64-bit keys (bits mapped to unsigned order, above the index): negatives,
    # infinities, subnormals and ties; -0.0 counted as 0.0, which the keys put below it
    values = torch.tensor(rows, dtype=torch.float32) + 0.0
    for dtype in (torch.float32, torch.float64):
        expected = values.to(dtype).argsort(dim=1, stable=True)
        assert torch.equal(sort_order(values.to(dtype)), expected)


@PROPERTIES
@given(seed=st.integers(0, 2**16), height=st.integers(1, 40), width=st.integers(1, 40))
def test_sliced_distance_of_equal_masses_and_its_gradient_are_the_weighted_paths(seed, height, width):
    # one sort and match per row, the gradient kept from the forward pass, against argsort,
    # scatter and autograd with a weight of ones (random values: no ties to order either way)
    loss = make("sliced", 4, seed)
    target = loss.statistics(features(4, 9, 7, seed=seed + 1) * 2)
    results = []
    for weight in (None, torch.ones(1, 1, height, width)):
        x = features(4, height, width, seed=seed).requires_grad_()
        distance = loss.distance(x, target, weight)
        distance.backward()
        results.append((distance.detach(), x.grad))
    torch.testing.assert_close(results[0], results[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", MEAN_TYPE)
def test_blend_and_merge_of_parts_are_the_statistics_of_the_whole(name):
    loss = make(name, 4)
    a, b = features(4, 5, 6, seed=1), features(4, 5, 3, seed=2) * 2
    whole = loss.statistics(torch.cat([a, b], dim=-1))
    assert_stats_close(blend([loss.statistics(a), loss.statistics(b)], [30, 15]), whole)
    assert_stats_close(loss.merge([(loss.statistics(a), 30), (loss.statistics(b), 15)]), whole)


def test_sliced_blend_is_the_w2_barycentre():
    # the barycentre of a distribution and its translate by v is its translate by v/2
    loss = make("sliced", 4)
    x = features(4, 8, 8, seed=1)
    shift = torch.tensor([1.0, -2.0, 0.5, 3.0]).reshape(1, 4, 1, 1)
    blended = blend([loss.statistics(x), loss.statistics(x + shift)], [1, 1])
    assert_stats_close(blended, loss.statistics(x + shift / 2), rtol=1e-5, atol=1e-5)


def test_sliced_merge_of_parts_approximates_the_whole():
    loss = make("sliced", 4)
    a, b = features(4, 32, 32, seed=1), features(4, 32, 16, seed=2) * 2
    whole = loss.statistics(torch.cat([a, b], dim=-1))["quantiles"]
    merged = loss.merge([(loss.statistics(a), 1024), (loss.statistics(b), 512)])["quantiles"]
    assert (merged - whole).abs().mean() < 1e-3 * whole.abs().mean()


@pytest.mark.parametrize("name", NAMES)
def test_statistics_and_distance_do_not_depend_on_image_size_for_a_repeated_texture(name):
    loss = make(name, 4)
    tile, target = features(4, 4, 4, seed=1), loss.statistics(features(4, 6, 6, seed=2) * 2)
    repeated = tile.repeat(1, 1, 3, 3)
    assert_stats_close(loss.statistics(repeated), loss.statistics(tile), rtol=1e-5, atol=1e-6)
    # the sliced loss compares 144 ranks, not 16, with the interpolated target: close, not equal
    rel = 1e-5 if name in MEAN_TYPE else 0.05
    assert loss.distance(repeated, target).item() == pytest.approx(loss.distance(tile, target).item(), rel=rel)


@pytest.mark.parametrize("name", NAMES)
def test_parts_surrogates_give_the_whole_distance_and_gradient(name):
    # the tiled objective: statistics merged over two cores, compare on them, each core's
    # surrogate weighted by its share; exact for mean-type losses, to the bins for sliced
    loss = make(name, 4)
    target = loss.statistics(features(4, 20, 20, seed=9, dtype=torch.float64) * 2)
    x = features(4, 16, 16, seed=1, dtype=torch.float64).requires_grad_()
    distance = loss.distance(x, target)
    (whole_gradient,) = torch.autograd.grad(distance, x)
    cores = [x[..., :10], x[..., 10:]]
    masses = [core[0, 0].numel() for core in cores]
    whole = loss.merge([(loss.statistics(core.detach()), mass) for core, mass in zip(cores, masses, strict=True)])
    leaves = {key: value.detach().requires_grad_() for key, value in whole.items()}
    compared = loss.compare(leaves, target)
    residual = dict(zip(leaves, torch.autograd.grad(compared, list(leaves.values())), strict=True))
    surrogates = sum(
        mass / sum(masses) * loss.surrogate(core, None, whole, target, residual)
        for core, mass in zip(cores, masses, strict=True)
    )
    (parts_gradient,) = torch.autograd.grad(surrogates, x)
    tolerance = 1e-6 if name in MEAN_TYPE else 1e-2  # the surrogate works in float32
    assert compared.item() == pytest.approx(distance.item(), rel=tolerance)
    assert (parts_gradient - whole_gradient).norm() <= tolerance * whole_gradient.norm()


# --- weight maps


@pytest.mark.parametrize("name", NAMES)
def test_a_weight_of_ones_is_no_weight(name):
    loss = make(name, 4)
    x, target = features(seed=1), loss.statistics(features(seed=2) * 2)
    ones = torch.ones(1, 1, 5, 6)
    assert_stats_close(loss.statistics(x, ones), loss.statistics(x), rtol=1e-5, atol=1e-6)
    assert loss.distance(x, target, ones).item() == pytest.approx(loss.distance(x, target).item(), rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_a_zero_one_weight_is_a_crop(name):
    loss = make(name, 4)
    x, target = features(4, 8, 9, seed=1), loss.statistics(features(seed=2) * 2)
    weight = torch.zeros(1, 1, 8, 9)
    weight[..., 2:6, 3:8] = 1
    crop = x[..., 2:6, 3:8]
    assert_stats_close(loss.statistics(x, weight), loss.statistics(crop), rtol=1e-5, atol=1e-6)
    assert loss.distance(x, target, weight).item() == pytest.approx(loss.distance(crop, target).item(), rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_a_soft_weight_counts_positions_in_proportion(name):
    # weights 1 and 1/2 count like two copies of the first half and one of the second
    loss = make(name, 4)
    left, right = features(4, 4, 3, seed=1), features(4, 4, 3, seed=2) * 2
    weight = torch.cat([torch.ones(1, 1, 4, 3), torch.full((1, 1, 4, 3), 0.5)], dim=-1)
    copies = torch.cat([left, left, right], dim=-1)
    assert_stats_close(
        loss.statistics(torch.cat([left, right], dim=-1), weight), loss.statistics(copies), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_zero_region_contributes_nothing(name):
    loss = make(name, 4)
    target = loss.statistics(features(seed=2) * 2)
    weight = torch.ones(1, 1, 5, 6)
    weight[..., :, :2] = 0
    x = features(seed=1).requires_grad_()
    distance = loss.distance(x, target, weight)
    distance.backward()
    assert x.grad[..., :2].abs().max() == 0 and x.grad[..., 2:].abs().max() > 0
    changed = x.detach().clone()
    changed[..., :2] = 100.0
    assert loss.distance(changed, target, weight).item() == pytest.approx(distance.item(), rel=1e-5)


def test_a_weight_map_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(1, 1, 5, 6\)"):
        make("gram", 4).statistics(features(), torch.ones(1, 1, 6, 5))


# --- the sliced directions


def test_sliced_directions_are_unit_fixed_and_seeded():
    loss = make("sliced", 6, seed=1)
    directions = loss.directions.clone()
    torch.testing.assert_close(directions.norm(dim=1), torch.ones(6))
    x, target = features(6, seed=1), loss.statistics(features(6, seed=2))
    first = loss.distance(x, target)
    assert loss.distance(x, target).item() == first.item()
    assert torch.equal(loss.directions, directions)
    assert torch.equal(make("sliced", 6, seed=1).directions, directions)
    assert not torch.allclose(make("sliced", 6, seed=2).directions, directions)
    # the run's generator moves on: the next layer's loss draws other directions
    generator = torch.Generator().manual_seed(1)
    assert not torch.allclose(SlicedLoss(6, generator).directions, SlicedLoss(6, generator).directions)


def test_a_sliced_detail_stage_sorts_a_share_of_the_directions_and_holds_the_layout_harder():
    loss = SlicedLoss.for_detail(64, torch.Generator().manual_seed(0))
    assert loss.directions.shape == (round(64 * DETAIL_DIRECTION_SHARE), 64) and DETAIL_DIRECTION_SHARE < 1
    torch.testing.assert_close(loss.directions.norm(dim=1), torch.ones(len(loss.directions)))
    x = features(64, seed=1)
    assert loss.statistics(x)["quantiles"].shape == (len(loss.directions), QUANTILE_LEVELS)
    assert loss.distance(x, loss.statistics(x)).item() < 1e-3
    assert SlicedLoss.for_detail(1, torch.Generator()).directions.shape == (1, 1)
    assert SlicedLoss.detail_content_factor > StyleLoss.detail_content_factor


@pytest.mark.parametrize("name", MEAN_TYPE)
def test_the_mean_losses_are_the_same_in_a_detail_stage(name):
    loss_class = STYLE_LOSSES[name]
    x, y = features(seed=1), features(seed=2)
    detail, plain = loss_class.for_detail(4, torch.Generator()), loss_class(4, torch.Generator())
    assert detail.distance(x, plain.statistics(y)).item() == plain.distance(x, plain.statistics(y)).item()
    assert loss_class.detail_content_factor == StyleLoss.detail_content_factor


def test_w2_prepares_each_target_once():
    # one instance serves a layer with a target per region: alternating doesn't recompute them
    loss = W2Loss(4, torch.Generator())
    x = features(seed=1)
    a, b = loss.statistics(features(seed=2) * 2), loss.statistics(features(seed=3) * 3)
    first = loss.distance(x, a)
    prepared = loss._prepared(a)
    assert loss.distance(x, b).item() != pytest.approx(first.item())
    assert loss.distance(x, a).item() == first.item()
    assert loss._prepared(a) is prepared and loss._prepared(b) is not prepared


# --- a real run


@pytest.mark.parametrize("name", NAMES)
def test_a_real_run_moves_towards_the_style(name, content_image, style_image):
    out = stylize(content_image, style_image, size=96, start_size=64, steps=4, style_loss=name)
    net, _ = network("offline", "max", "relu5_1", "cpu")
    content = load_image(content_image).rgb
    content = resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], 96))
    ratios = Yardstick(net, content, load_image(style_image).rgb).ratios(load_image(out).rgb)
    assert ratios.style < 0.3, ratios
    assert ratios.content < 1.0, ratios
