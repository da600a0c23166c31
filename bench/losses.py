"""The three style losses side by side: Gram, W2 and sliced Wasserstein, on the bench pairs.

For each pair, a run per loss with the default settings otherwise (in this process, one
after the other; the network is built once, before the first). Prints a table of wall time,
iterations and quality, saves the pictures side by side (content, style, then one column per
loss) in bench/out/losses.png and 100% crops of their centres in bench/out/losses_crops.png.

Quality is measured three ways, each a ratio result / content image (lower is closer to the
style): the yardstick of :mod:`fixtures.yardstick` (Gram distance, original Caffe VGG-19), and
the mean over relu1_1 … relu5_1 of the W2 and of the sliced distance. The content ratio is the
yardstick's (how much of the photo is left: lower keeps more). Each measure favours its own
loss: read them together, and look at the pictures.

Then the cost of each loss alone at each style layer: one distance and its gradient for the
layer's features of a 512 px picture (median of 5).

    .venv/bin/python bench/losses.py               # the full comparison (~30 min on 2 cores)
    .venv/bin/python bench/losses.py --quick       # a smoke test: 128 px, one pair
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torch import Tensor

from style_core import Finished, Job
from style_core.engine.network import network
from style_core.engine.style_losses import STYLE_LOSSES
from style_core.image import load_image, resize, size_for_long_side

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.yardstick import STYLE_LAYERS, Yardstick

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent.parent / "shared" / "images"
#: The pairs of bench/run.py.
PAIRS = [
    ("tubingen.jpg", "starry_night.jpg"),
    ("tubingen.jpg", "the_scream.jpg"),
    ("woman-with-hat-matisse.jpg", "shipwreck.jpg"),
]
LOSSES = list(STYLE_LOSSES)


def run(content: Path, style: Path, loss: str, size: int, out: Path) -> dict:
    """One stylization; its wall time, iterations and saved picture."""
    started = time.perf_counter()
    iterations = 0
    for event in Job(content, style, {"size": size, "style_loss": loss, "weights": "offline"}).run():
        if isinstance(event, Finished):
            result = event.result
        else:
            iterations += 1
    elapsed = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    result.save(out)
    return {"time": elapsed, "iterations": iterations, "image": out}


class LossMeasures:
    """Each loss's distance of a picture to the style, relative to the content's: the mean over
    the yardstick's layers of ``distance(picture) / distance(content)``."""

    @torch.no_grad()
    def __init__(self, content: Tensor, style: Tensor) -> None:
        self.network, _ = network("offline", "max", "relu5_1", "cpu")
        style = resize(style, *size_for_long_side(style.shape[-1], style.shape[-2], max(content.shape[-2:])))
        style_features = self.network(style, STYLE_LAYERS)
        generator = torch.Generator().manual_seed(0)
        self.losses = {
            name: {layer: STYLE_LOSSES[name](f.shape[1], generator) for layer, f in style_features.items()}
            for name in LOSSES
        }
        self.targets = {
            name: {layer: losses[layer].statistics(f) for layer, f in style_features.items()}
            for name, losses in self.losses.items()
        }
        self.baseline = self._distances(content)

    @torch.no_grad()
    def _distances(self, image: Tensor) -> dict[str, dict[str, float]]:
        features = self.network(image, STYLE_LAYERS)
        return {
            name: {
                layer: float(loss.distance(features[layer], self.targets[name][layer]))
                for layer, loss in losses.items()
            }
            for name, losses in self.losses.items()
        }

    def ratios(self, image: Tensor) -> dict[str, float]:
        distances = self._distances(image)
        return {
            name: statistics.mean(distances[name][layer] / self.baseline[name][layer] for layer in STYLE_LAYERS)
            for name in LOSSES
        }


def layer_costs(content: Path, size: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Per loss and style layer: milliseconds of one distance and its gradient for the layer's
    features of ``content`` at ``size`` (against a stand-in target), as (wall time with the
    usual threads, CPU time on one thread). The machine may be shared: the one-thread CPU time
    is what the work costs, the wall time what it took. Medians of 5, after one to warm up."""
    net, _ = network("offline", "max", "relu5_1", "cpu")
    image = load_image(content).rgb
    image = resize(image, *size_for_long_side(image.shape[-1], image.shape[-2], size))
    with torch.no_grad():
        features = net(image, STYLE_LAYERS)

    def median_ms(clock, loss, value, target) -> float:
        times = []
        for _ in range(6):
            leaf = value.clone().requires_grad_()
            started = clock()
            loss.distance(leaf, target).backward()
            times.append(clock() - started)
        return statistics.median(times[1:]) * 1000

    threads = torch.get_num_threads()
    costs: dict[str, dict[str, tuple[float, float]]] = {}
    for name in LOSSES:
        costs[name] = {}
        for layer, value in features.items():
            loss = STYLE_LOSSES[name](value.shape[1], torch.Generator().manual_seed(0))
            target = loss.statistics(value.roll(1, dims=1) * 1.5)
            wall = median_ms(time.perf_counter, loss, value, target)
            torch.set_num_threads(1)
            try:
                cpu = median_ms(time.process_time, loss, value, target)
            finally:
                torch.set_num_threads(threads)
            costs[name][layer] = (wall, cpu)
    return costs


def sheet(rows: list[list[Image.Image]], labels: list[str], out: Path, height: int | None = 256) -> None:
    """Pictures in rows, each scaled to ``height`` (None: as they are), labels on top."""
    if height is not None:
        rows = [[t.resize((round(t.width * height / t.height), height), Image.LANCZOS) for t in row] for row in rows]
    row_heights = [max(t.height for t in row) for row in rows]
    width = max(sum(t.width + 8 for t in row) for row in rows)
    canvas = Image.new("RGB", (width, 24 + sum(h + 8 for h in row_heights)), "white")
    draw = ImageDraw.Draw(canvas)
    x = 0
    for label, tile in zip(labels, rows[0], strict=True):
        draw.text((x + 4, 6), label, fill="black")
        x += tile.width + 8
    y = 24
    for row, row_height in zip(rows, row_heights, strict=True):
        x = 0
        for tile in row:
            canvas.paste(tile, (x, y))
            x += tile.width + 8
        y += row_height + 8
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)


def centre_crop(image: Image.Image, side: int) -> Image.Image:
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: 128 px, the first pair")
    parser.add_argument("--pairs", type=int, nargs="+", default=None, help="which pairs (0-based) to run")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--images", type=Path, default=IMAGES)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    size = 128 if args.quick else args.size
    pairs = [PAIRS[i] for i in args.pairs] if args.pairs else PAIRS[:1] if args.quick else PAIRS
    network("offline", "max", "relu5_1", "cpu")
    table, rows, crops = [], [], []
    for content_name, style_name in pairs:
        content_path, style_path = args.images / content_name, args.images / style_name
        pair = f"{Path(content_name).stem}+{Path(style_name).stem}"
        content = load_image(content_path).rgb
        content = resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], size))
        style = load_image(style_path).rgb
        yardstick = Yardstick(network("offline", "max", "relu5_1", "cpu")[0], content, style)
        measures = LossMeasures(content, style)
        results = {}
        for loss in LOSSES:
            print(f"== {pair}: {loss} at {size} px", flush=True)
            results[loss] = run(content_path, style_path, loss, size, args.out / "losses" / pair / f"{loss}.png")
            picture = load_image(results[loss]["image"]).rgb
            results[loss]["yardstick"] = yardstick.ratios(picture)
            results[loss]["measures"] = measures.ratios(picture)
            table.append((pair, loss, results[loss]))
        pictures = [Image.open(results[loss]["image"]).convert("RGB") for loss in LOSSES]
        rows.append([Image.open(content_path).convert("RGB"), Image.open(style_path).convert("RGB"), *pictures])
        crops.append([centre_crop(p, min(192, p.width, p.height)) for p in pictures])

    header = f"{'pair':36} {'loss':7} {'time s':>7} {'iters':>5} {'s/iter':>6} {'style':>7} {'content':>7}"
    header += "".join(f" {name + ' r':>9}" for name in LOSSES if name != "gram")
    print()
    print("style, content: the yardstick's ratios (Gram distance, relu4_2). 'w2 r', 'sliced r': the mean")
    print("over relu1_1..relu5_1 of that loss's distance, result / content. Lower is closer for all.")
    print(header)
    print("-" * len(header))
    for pair, loss, r in table:
        line = f"{pair:36} {loss:7} {r['time']:7.1f} {r['iterations']:5d} {r['time'] / r['iterations']:6.2f}"
        line += f" {r['yardstick'].style:7.4f} {r['yardstick'].content:7.4f}"
        line += "".join(f" {r['measures'][name]:9.4f}" for name in LOSSES if name != "gram")
        print(line)

    costs = layer_costs(args.images / pairs[0][0], size)
    print()
    print(f"one distance + gradient per layer, ms, wall / one-thread CPU (features of {pairs[0][0]} at {size} px):")
    print(f"{'loss':7} " + " ".join(f"{layer:>13}" for layer in STYLE_LAYERS) + f" {'total':>13}")
    for name, per_layer in costs.items():
        cells = " ".join(f"{wall:6.0f} /{cpu:5.0f}" for wall, cpu in per_layer.values())
        total = f"{sum(w for w, _ in per_layer.values()):6.0f} /{sum(c for _, c in per_layer.values()):5.0f}"
        print(f"{name:7} {cells} {total}")

    sheet(rows, ["content", "style", *LOSSES], args.out / "losses.png")
    sheet(crops, [f"{name} (100%)" for name in LOSSES], args.out / "losses_crops.png", height=None)
    print(f"\npictures: {args.out / 'losses.png'}, crops: {args.out / 'losses_crops.png'}")


if __name__ == "__main__":
    main()
