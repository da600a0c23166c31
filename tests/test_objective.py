import kornia
import pytest
import torch

from style_core.engine.objective import Anchor, LossWeights, Objective, StyleTerm, total_variation
from style_core.engine.style_losses import blend
from style_core.engine.style_losses.gram import GramLoss, gram_matrix
from style_core.engine.tiles import Box


def test_gram_matrix_matches_hand_computed_values():
    # Two channels over a 1x2 image: F = [[1, 2], [3, 4]]; F Fᵀ = [[5, 11], [11, 25]]; C·H·W = 4.
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    torch.testing.assert_close(gram_matrix(features), expected)


def test_gram_matrix_is_independent_of_image_size_for_repeated_texture():
    tile = torch.rand(1, 8, 4, 4)
    assert torch.allclose(gram_matrix(tile), gram_matrix(tile.repeat(1, 1, 3, 3)), atol=1e-6)


def test_gram_matrix_gradient_in_float64():
    features = torch.rand(1, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: gram_matrix(f).double(), (features,))


def test_gram_scale_is_the_geometric_mean_of_both_energies():
    loss = GramLoss(2, torch.Generator())
    content, style = {"gram": torch.full((1, 2, 2), 2.0)}, {"gram": torch.full((1, 2, 2), 8.0)}
    # mean(Gc²) = 4, mean(Gs²) = 64: sqrt(4 · 64) = 16, the same with the images swapped
    assert loss.scale(content, style).item() == pytest.approx(16.0)
    assert loss.scale(style, content).item() == pytest.approx(16.0)
    # a flat (all-zero) content counts as 1% of the style's energy: sqrt(0.64 · 64) = 6.4
    assert loss.scale({"gram": torch.zeros(1, 2, 2)}, style).item() == pytest.approx(6.4)


def test_total_variation_hand_computed():
    image = torch.tensor([[[[0.0, 1.0], [1.0, 3.0]]]])
    # horizontal diffs |1-0|, |3-1| average 1.5; vertical |1-0|, |3-1| average 1.5
    assert total_variation(image).item() == pytest.approx(3.0)
    assert total_variation(image).item() == pytest.approx(
        kornia.losses.total_variation(image, reduction="mean").mean().item()
    )


def test_blend_is_a_weighted_mean():
    a, b = {"x": torch.ones(1, 2, 2)}, {"x": torch.full((1, 2, 2), 4.0)}
    torch.testing.assert_close(blend([a, b], [3, 1])["x"], torch.full((1, 2, 2), 1.75))


def _objective(features: dict, weights: LossWeights, style_weight: torch.Tensor | None = None) -> Objective:
    loss = GramLoss(5, torch.Generator())
    target = loss.statistics(features["b"], style_weight)
    term = StyleTerm("b", loss, target, loss.scale(target, target), 1.0, style_weight)
    energy = {name: features[name].square().mean() for name in weights.content_layers}
    return Objective(features, energy, [term], weights)


def test_objective_is_zero_at_targets_and_weights_terms():
    features = {"a": torch.rand(1, 4, 3, 3), "b": torch.rand(1, 5, 2, 2)}
    weights = LossWeights(content=2.0, style=3.0, tv=0.5, content_layers=("a",), style_layers={"b": 1.0})
    objective = _objective(features, weights)
    flat = torch.full((1, 3, 4, 4), 0.3)
    total, terms = objective(flat, features)
    assert total.item() == pytest.approx(0.0, abs=1e-6)
    shifted = {"a": torch.zeros_like(features["a"]), "b": torch.zeros_like(features["b"])}
    total, terms = objective(flat, shifted)
    # content: mean((0 - t)²) divided by the scale, here mean(t²): 1, times the weight 2
    assert terms["content"].item() == pytest.approx(2.0)
    # style: mean(Gs²) / sqrt(mean(Gc²) · mean(Gs²)) = 1 when content and style Grams agree
    assert terms["style"].item() == pytest.approx(3.0)
    assert objective.layers == ["a", "b"]


def test_the_content_term_of_parts_adds_up_to_the_whole():
    layer = "relu2_1"  # a step of 2 pixels: a 16 x 12 picture has 8 x 6 features
    features = {layer: torch.rand(1, 4, 8, 6), "b": torch.rand(1, 5, 2, 2)}
    weights = LossWeights(content=1.0, style=1.0, tv=0.0, content_layers=(layer,), style_layers={"b": 1.0})
    objective = _objective(features, weights)
    picture = {layer: torch.rand(1, 4, 8, 6)}
    top, bottom = Box(0, 0, 10, 12), Box(10, 0, 16, 12)  # in pixels
    parts = objective.content({layer: picture[layer][..., :5, :]}, top) + objective.content(
        {layer: picture[layer][..., 5:, :]}, bottom
    )
    assert parts.item() == pytest.approx(objective.content(picture).item(), rel=1e-6)


def test_a_style_term_over_a_region_sees_only_the_region():
    features = {"a": torch.rand(1, 4, 3, 3), "b": torch.rand(1, 5, 2, 2)}
    weights = LossWeights(content=0.0, style=1.0, tv=0.0, content_layers=("a",), style_layers={"b": 1.0})
    left = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    objective = _objective(features, weights, style_weight=left)
    changed = features["b"].clone()
    changed[..., 1] = 9.0  # outside the region
    assert objective.style({"b": changed}).item() == pytest.approx(0.0, abs=1e-6)
    changed[..., 0] = 9.0  # inside
    assert objective.style({"b": changed}).item() > 0.1


def test_anchor_holds_only_where_its_mask_says():
    image = torch.zeros(1, 3, 2, 2)
    target = torch.ones(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    anchor = Anchor(target, mask, weight=2.0)
    assert anchor(image).item() == pytest.approx(1.0)  # the one held pixel is 1 away in each channel
    assert anchor(target).item() == 0.0
    half = anchor.resized(4, 4)
    assert half.image.shape[-2:] == (4, 4) and half.weight == 2.0
