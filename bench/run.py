"""style_core against pastiche, side by side on this machine, in one run.

For each pair of images: pastiche at 512 px with its defaults for 400 L-BFGS steps (the
reference), then style_core with its defaults. Each runs in its own process; wall time and
peak RSS are taken from that process. Quality is the yardstick of
:mod:`fixtures.yardstick` (original Caffe VGG-19, max pooling): style ratio and content
ratio, lower is better. Prints a table, the ratios style_core / pastiche, style_core's time
to reach pastiche's quality, the per-iteration efficiency against the measured matmul peak,
and saves the pictures side by side in bench/out/side_by_side.png.

    .venv/bin/python bench/run.py                # the full benchmark (~45 min on 2 cores)
    .venv/bin/python bench/run.py --quick        # a smoke test: 128 px, 20 pastiche steps
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from style_core.engine.network import network
from style_core.image import load_image, resize, size_for_long_side

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.yardstick import STYLE_LAYERS, Ratios, Yardstick

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent.parent / "shared" / "images"
PAIRS = [
    ("tubingen.jpg", "starry_night.jpg"),
    ("tubingen.jpg", "the_scream.jpg"),
    ("woman-with-hat-matisse.jpg", "shipwreck.jpg"),
]


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``command``; return (wall seconds, peak RSS in MiB) of that process alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024


def run_pastiche(content: Path, style: Path, out: Path, size: int, steps: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("pastiche", path=str(Path(sys.executable).parent))
    command = [binary, "--content", str(content), "--styles", str(style), "--output", str(out / "result.png")]
    command += ["--size", str(size), "--num-steps", str(steps), "--device", "cpu", "--seed", "0", "--no-verbose"]
    wall, rss = run_measured(command)
    return {"time": wall, "rss": rss, "image": out / "result.png"}


def run_style_core(content: Path, style: Path, out: Path, size: int) -> dict:
    command = [sys.executable, str(HERE / "run_style_core.py"), str(content), str(style), str(out), str(size)]
    wall, rss = run_measured(command)
    events = json.loads((out / "events.json").read_text())
    return {"time": wall, "rss": rss, "image": out / "result.png", "events": events}


def tensor(path: Path) -> torch.Tensor:
    return load_image(path).rgb


def time_to_reach(events: list[dict], yardstick: Yardstick, target: Ratios, size: int) -> tuple[float | None, list]:
    """Seconds until style_core's full-size previews are at least as good as ``target``; the curve."""
    curve = []
    reached = None
    for event in events:
        if "image" not in event:
            continue
        image = tensor(Path(event["image"]))
        if max(image.shape[-2:]) != size:
            continue
        ratios = yardstick.ratios(image)
        curve.append((round(event["elapsed"], 1), round(ratios.style, 4), round(ratios.content, 4)))
        if reached is None and ratios.at_least_as_good_as(target):
            reached = event["elapsed"]
    return reached, curve


def conv_flops(height: int, width: int) -> float:
    """FLOPs of VGG-19's convolutions up to relu5_1, forward, for one image."""
    config = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M"]
    config += [(128, 256)] + [(256, 256)] * 3 + ["M", (256, 512)] + [(512, 512)] * 3 + ["M", (512, 512)]
    total, h, w = 0.0, height, width
    for item in config:
        if item == "M":
            h, w = h // 2, w // 2
        else:
            total += 2 * item[0] * item[1] * 9 * h * w
    return total


def efficiency(size: int) -> dict:
    """Measured time of one full-size iteration vs. its FLOPs and the fp32 matmul peak."""
    torch.manual_seed(0)
    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    torch.mm(a, b)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - started)
    peak = 2 * 4096**3 / min(times)
    net, _ = network("offline", "max", "relu5_1", "cpu")
    height, width = size * 3 // 4, size
    image = torch.rand(1, 3, height, width, requires_grad=True)
    layers = [*STYLE_LAYERS, "relu4_2"]
    from style_core.engine.style_losses.gram import gram_matrix

    def iteration() -> None:
        features = net(image, layers)
        loss = sum(gram_matrix(features[n]).square().sum() for n in STYLE_LAYERS) + features["relu4_2"].square().mean()
        loss.backward()

    iteration()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - started)
    # backward w.r.t. the input costs about as much as the forward pass (no weight gradients)
    flops = 2 * conv_flops(height, width)
    return {"peak": peak, "iteration": statistics.median(times), "flops": flops}


def side_by_side(rows: list[list[Path]], labels: list[str], out: Path, height: int = 256) -> None:
    tiles = [[Image.open(p).convert("RGB") for p in row] for row in rows]
    tiles = [[t.resize((round(t.width * height / t.height), height)) for t in row] for row in tiles]
    width = max(sum(t.width for t in row) + 8 * len(row) for row in tiles)
    sheet = Image.new("RGB", (width, 24 + len(tiles) * (height + 8)), "white")
    draw = ImageDraw.Draw(sheet)
    x = 0
    for label, tile in zip(labels, tiles[0], strict=True):
        draw.text((x + 4, 6), label, fill="black")
        x += tile.width + 8
    for r, row in enumerate(tiles):
        x = 0
        for tile in row:
            sheet.paste(tile, (x, 24 + r * (height + 8)))
            x += tile.width + 8
    sheet.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: 128 px, 20 pastiche steps, one pair")
    parser.add_argument("--pairs", type=int, nargs="+", default=None, help="which pairs (0-based) to run")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pastiche-steps", type=int, default=400)
    parser.add_argument("--images", type=Path, default=IMAGES)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    pairs = [PAIRS[i] for i in args.pairs] if args.pairs else PAIRS[:1] if args.quick else PAIRS
    size, steps = (128, 20) if args.quick else (args.size, args.pastiche_steps)
    net, _ = network("offline", "max", "relu5_1", "cpu")
    results, rows = [], []
    for content_name, style_name in pairs:
        content, style = args.images / content_name, args.images / style_name
        name = f"{Path(content_name).stem}+{Path(style_name).stem}"
        print(f"== {name}: pastiche {steps} steps, then style_core, at {size} px", flush=True)
        past = run_pastiche(content, style, args.out / name / "pastiche", size, steps)
        ours = run_style_core(content, style, args.out / name / "style_core", size)
        c = tensor(content)
        yardstick = Yardstick(net, resize(c, *size_for_long_side(c.shape[-1], c.shape[-2], size)), tensor(style))
        past["ratios"] = yardstick.ratios(tensor(past["image"]))
        ours["ratios"] = yardstick.ratios(tensor(ours["image"]))
        ours["reached"], ours["curve"] = time_to_reach(ours["events"], yardstick, past["ratios"], size)
        results.append((name, past, ours))
        rows.append([content, style, past["image"], ours["image"]])
        print(f"   style_core curve at full size (s, style ratio, content ratio): {ours['curve']}", flush=True)

    print()
    header = f"{'pair':38} {'tool':11} {'time s':>8} {'RSS MiB':>8} {'style':>7} {'content':>8} {'reached s':>9}"
    print(header)
    print("-" * len(header))
    for name, past, ours in results:
        for tool, r in (("pastiche", past), ("style_core", ours)):
            reached = f"{r['reached']:9.1f}" if r.get("reached") else f"{'-' if tool == 'pastiche' else 'never':>9}"
            line = f"{name:38} {tool:11} {r['time']:8.1f} {r['rss']:8.0f} {r['ratios'].style:7.4f}"
            print(f"{line} {r['ratios'].content:8.4f} {reached}")
    print()
    print(f"{'pair':38} {'time ratio':>10} {'to reach':>9} {'RSS ratio':>9} {'at least as good':>17}")
    for name, past, ours in results:
        to_reach = f"{ours['reached'] / past['time']:9.3f}" if ours["reached"] else f"{'never':>9}"
        good = ours["ratios"].at_least_as_good_as(past["ratios"])
        print(f"{name:38} {ours['time'] / past['time']:10.3f} {to_reach} {ours['rss'] / past['rss']:9.3f} {good!s:>17}")

    measured = efficiency(size)
    achieved = measured["flops"] / measured["iteration"]
    print()
    print(f"fp32 matmul peak (4096², this run): {measured['peak'] / 1e9:.0f} GFLOP/s")
    print(
        f"one full-size iteration ({size}x{size * 3 // 4}): {measured['iteration']:.2f} s for "
        f"{measured['flops'] / 1e9:.0f} GFLOP of convolutions = {achieved / 1e9:.0f} GFLOP/s, "
        f"{achieved / measured['peak']:.0%} of peak"
    )
    labels = ["content", "style", f"pastiche {steps} steps", "style_core default"]
    side_by_side(rows, labels, args.out / "side_by_side.png")
    print(f"\npictures: {args.out / 'side_by_side.png'}")


if __name__ == "__main__":
    main()
