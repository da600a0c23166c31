import pytest
import torch

from style_core.engine.vgg import CAFFE, CONV_NAMES, LAYER_NAMES, TORCHVISION, VGG19Features, deepest_layer
from style_core.engine.weights import load_offline


def test_layer_names_follow_the_paper():
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert len(CONV_NAMES) == 16 and CONV_NAMES[-1] == "conv5_4"
    assert LAYER_NAMES[-1] == "pool5"


def test_deepest_layer_and_unknown_names():
    assert deepest_layer(["relu1_1", "relu5_1", "relu4_2"]) == "relu5_1"
    with pytest.raises(ValueError, match="relu9_9"):
        deepest_layer(["relu9_9"])


def _tiny_convs():
    convs, channels = {}, 3
    for name in CONV_NAMES[:2]:
        convs[name] = (torch.randn(4, channels, 3, 3), torch.randn(4))
        channels = 4
    return convs


def test_caffe_convention_is_bgr_0_255_minus_mean():
    net = VGG19Features(_tiny_convs(), CAFFE, last_layer="relu1_2")
    image = torch.zeros(1, 3, 2, 2)
    image[:, 0] = 1.0  # pure red
    x = net.normalize(image)
    assert x[0, 2, 0, 0].item() == pytest.approx(255 - 123.68)  # red is the last channel in BGR
    assert x[0, 0, 0, 0].item() == pytest.approx(-103.939)


def test_torchvision_convention_is_rgb_normalised():
    net = VGG19Features(_tiny_convs(), TORCHVISION, last_layer="relu1_2")
    x = net.normalize(torch.full((1, 3, 1, 1), 0.485))
    assert x[0, 0, 0, 0].item() == pytest.approx(0.0, abs=1e-6)


def test_extractor_is_cut_after_the_last_layer_and_frozen():
    weights = load_offline()
    net = VGG19Features(weights.convs, weights.convention, last_layer="relu4_2", pooling="avg")
    assert net.layer_names[-1] == "relu4_2"
    assert not any(p.requires_grad for p in net.parameters())
    out = net(torch.rand(1, 3, 64, 48), ["relu1_1", "relu4_2"])
    assert out["relu1_1"].shape == (1, 64, 64, 48)
    assert out["relu4_2"].shape == (1, 512, 8, 6)
    with pytest.raises(ValueError, match="beyond"):
        net(torch.rand(1, 3, 32, 32), ["relu5_1"])
