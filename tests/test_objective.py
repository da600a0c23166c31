import kornia
import pytest
import torch

from style_core.objective import Anchor, LossWeights, Objective, StyleTerm, relative_mse, total_variation
from style_core.style_losses import blend
from style_core.style_losses.gram import GramLoss, gram_matrix


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


def test_relative_mse_hand_computed():
    value, target = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0])
    # mean((v - t)²) = 0.5, mean(t²) = 4
    assert relative_mse(value, target).item() == pytest.approx(0.125)
    assert relative_mse(torch.zeros(2), target).item() == pytest.approx(1.0)


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


def test_objective_is_zero_at_targets_and_weights_terms():
    features = {"a": torch.rand(1, 4, 3, 3), "b": torch.rand(1, 5, 2, 2)}
    weights = LossWeights(content=2.0, style=3.0, tv=0.5, content_layers=("a",), style_layers={"b": 1.0})
    loss = GramLoss(5, torch.Generator())
    target = loss.statistics(features["b"])
    objective = Objective(features, {"b": StyleTerm(loss, target, loss.scale(target, target))}, weights)
    flat = torch.full((1, 3, 4, 4), 0.3)
    total, terms = objective(flat, features)
    assert total.item() == pytest.approx(0.0, abs=1e-6)
    shifted = {"a": torch.zeros_like(features["a"]), "b": torch.zeros_like(features["b"])}
    total, terms = objective(flat, shifted)
    assert terms["content"].item() == pytest.approx(2.0)
    # style: mean(Gs²) / sqrt(mean(Gc²) · mean(Gs²)) = 1 when content and style Grams agree
    assert terms["style"].item() == pytest.approx(3.0)
    assert objective.layers == ["a", "b"]


def test_anchor_holds_only_where_its_mask_says():
    image = torch.zeros(1, 3, 2, 2)
    target = torch.ones(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    anchor = Anchor(target, mask, weight=2.0)
    assert anchor(image).item() == pytest.approx(1.0)  # the one held pixel is 1 away in each channel
    assert anchor(target).item() == 0.0
    half = anchor.resized(4, 4)
    assert half.image.shape[-2:] == (4, 4) and half.weight == 2.0
