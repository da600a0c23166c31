import torch
from kornia.color import rgb_to_ycbcr

from style_core.engine.color import grey, match_color_statistics, match_luminance, recombine_luminance


def test_recombine_keeps_content_chroma_and_result_luma():
    # moderate colours, so that every recombined pixel stays inside the RGB gamut
    content = 0.35 + 0.3 * torch.rand(1, 3, 16, 16)
    result = 0.3 + 0.4 * torch.rand(1, 3, 16, 16)
    mixed = rgb_to_ycbcr(recombine_luminance(result, content))
    torch.testing.assert_close(mixed[:, 1:], rgb_to_ycbcr(content)[:, 1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[:, :1], rgb_to_ycbcr(result)[:, :1], atol=1e-5, rtol=0)


def test_match_luminance_gives_grey_with_content_statistics():
    style, content = torch.rand(1, 3, 20, 20) * 0.3, torch.rand(1, 3, 20, 20)
    matched = match_luminance(style, content)
    assert torch.equal(matched[:, 0], matched[:, 1])
    y = rgb_to_ycbcr(content)[:, 0]
    assert abs(matched[:, 0].mean() - y.mean()) < 0.02
    assert abs(matched[:, 0].std() - y.std()) < 0.02
    assert torch.equal(grey(content)[:, 0], grey(content)[:, 2])


def test_match_color_statistics_moves_mean_and_covariance():
    generator = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 32, 32, generator=generator) * 0.5 + torch.tensor([0.4, 0.1, 0.0]).view(1, 3, 1, 1)
    style = torch.rand(1, 3, 32, 32, generator=generator) * 0.5 + torch.tensor([0.0, 0.2, 0.4]).view(1, 3, 1, 1)
    out = match_color_statistics(style, content)
    torch.testing.assert_close(out.mean((2, 3)), content.mean((2, 3)), atol=0.02, rtol=0)
    cov = lambda x: torch.cov(x.reshape(3, -1))  # noqa: E731
    torch.testing.assert_close(cov(out), cov(content), atol=0.005, rtol=0)
