"""Big pictures: style_core at 1024, 2048 and 4096 px beside pastiche, in one run.

For each size, style_core's default run on *Tübingen* and *The Starry Night* in its own process
(wall time, peak RSS) and pastiche's at 1024 and 2048 px (a fixed number of L-BFGS steps,
its seconds per step extrapolated to its 400; killed when it passes ``--pastiche-memory`` or
``--pastiche-time``, and the step it reached recorded, so the bench never crashes on it).
Then 100% crops of the same spot of every result beside an upscale of the 512 px result, with
the high-frequency energy of each crop (mean square of the Laplacian): a result painted at
its size is sharper than an upscale.

    .venv/bin/python bench/big.py                     # 512 (reference), 1024, 2048, 4096
    .venv/bin/python bench/big.py --sizes 1024 2048   # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent.parent / "shared" / "images"
TARGETS = {512: None, 1024: 120, 2048: 360, 4096: 1500}  # seconds, from the issue
MEMORY_TARGETS = {2048: 4 * 1024, 4096: 5 * 1024}  # MiB


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_limited(command: list[str], memory_mib: float, seconds: float, log: Path) -> dict:
    """Run ``command``; stop it past ``memory_mib`` of RSS or ``seconds``. Wall time, peak RSS, how it ended."""
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        ended = {"why": "finished"}

        def watch() -> None:
            while process.poll() is None:
                if _rss_mib(process.pid) > memory_mib:
                    ended["why"] = f"stopped at {memory_mib:.0f} MiB"
                elif time.perf_counter() - started > seconds:
                    ended["why"] = f"stopped after {seconds:.0f} s"
                else:
                    time.sleep(0.2)
                    continue
                os.killpg(process.pid, signal.SIGKILL)
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        watcher.join()
    wall = time.perf_counter() - started
    if ended["why"] == "finished" and os.waitstatus_to_exitcode(status) != 0:
        ended["why"] = f"failed (exit {os.waitstatus_to_exitcode(status)}), see {log}"
    return {"time": wall, "rss": usage.ru_maxrss / 1024, "ended": ended["why"]}


def run_style_core(content: Path, style: Path, out: Path, size: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / "run_style_core.py"), str(content), str(style), str(out), str(size)]
    result = run_limited(command, memory_mib=22 * 1024, seconds=7200, log=out / "log.txt")
    result["image"] = out / "result.png"
    events = json.loads((out / "events.json").read_text()) if (out / "events.json").exists() else []
    result["first_eta"] = events[0]["eta"] + events[0]["elapsed"] if events else None
    return result


def run_pastiche(content: Path, style: Path, out: Path, size: int, steps: int, memory: float, seconds: float) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("pastiche", path=str(Path(sys.executable).parent))
    command = [binary, "--content", str(content), "--styles", str(style), "--output", str(out / "result.png")]
    command += ["--size", str(size), "--num-steps", str(steps), "--device", "cpu", "--seed", "0", "--info-step", "1"]
    result = run_limited(command, memory, seconds, out / "log.txt")
    # Its table: a row after each step's draw, "step elapsed loss"; step 0 is the set-up (targets).
    rows = re.findall(r"^(\d+)\s+([\d.]+)\s", (out / "log.txt").read_text(errors="replace"), re.MULTILINE)
    result["steps"] = int(rows[-1][0]) if rows else 0
    result["per_step"] = (float(rows[-1][1]) - float(rows[0][1])) / result["steps"] if result["steps"] else None
    return result


def high_frequency(crop: np.ndarray) -> float:
    """Mean square of the 4-neighbour Laplacian of the luma, on 0-255 values."""
    luma = crop[..., :3].astype(float) @ [0.299, 0.587, 0.114]
    laplacian = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    return float(np.mean(laplacian**2))


def crops(results: dict[int, Path], reference: Path, out: Path, side: int = 256) -> dict[str, float]:
    """100% crops at the same relative spot (the houses by the river) and their HF energy."""
    tiles, energy = [], {}
    biggest = max(results)
    for size, path in sorted(results.items()):
        image = Image.open(path).convert("RGB")
        if size == min(results):  # also the upscale of the smallest to the biggest size
            upscale = image.resize(Image.open(results[biggest]).size, Image.Resampling.BICUBIC)
            tiles.append((f"{size} px upscaled to {biggest}", _crop(upscale, side)))
        tiles.append((f"{size} px", _crop(image, side)))
    for label, tile in tiles:
        energy[label] = high_frequency(np.asarray(tile))
    sheet = Image.new("RGB", (len(tiles) * (side + 8), side + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, tile) in enumerate(tiles):
        sheet.paste(tile, (i * (side + 8), 24))
        draw.text((i * (side + 8) + 4, 6), label, fill="black")
    sheet.save(out)
    del reference
    return energy


def _crop(image: Image.Image, side: int) -> Image.Image:
    x = min(round(image.width * 0.55), image.width - side)
    y = min(round(image.height * 0.5), image.height - side)
    return image.crop((x, y, x + side, y + side))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--pastiche-sizes", type=int, nargs="*", default=[1024, 2048])
    parser.add_argument("--pastiche-steps", type=int, default=20, help="steps to time (its default run is 400)")
    parser.add_argument("--pastiche-memory", type=float, default=20 * 1024, help="MiB before pastiche is stopped")
    parser.add_argument("--pastiche-time", type=float, default=1800, help="seconds before pastiche is stopped")
    parser.add_argument("--images", type=Path, default=IMAGES)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "big")
    args = parser.parse_args()
    content, style = args.images / "tubingen.jpg", args.images / "starry_night.jpg"
    rows, pictures = [], {}
    for size in args.sizes:
        print(f"== style_core at {size} px", flush=True)
        ours = run_style_core(content, style, args.out / f"style_core-{size}", size)
        pictures[size] = ours["image"]
        rows.append(("style_core", size, ours))
        if size in args.pastiche_sizes:
            print(f"== pastiche at {size} px, {args.pastiche_steps} steps", flush=True)
            theirs = run_pastiche(
                content, style, args.out / f"pastiche-{size}", size, args.pastiche_steps,
                args.pastiche_memory, args.pastiche_time,
            )  # fmt: skip
            rows.append(("pastiche", size, theirs))

    print()
    header = f"{'tool':11} {'size':>5} {'time s':>8} {'target s':>8} {'first ETA s':>11} {'RSS MiB':>8}"
    header += f" {'RSS target':>10}  ended"
    print(header)
    print("-" * len(header))
    for tool, size, r in rows:
        target = TARGETS.get(size) if tool == "style_core" else None
        memory = MEMORY_TARGETS.get(size) if tool == "style_core" else None
        eta = r.get("first_eta")
        ended = r["ended"] if tool == "style_core" else f"{r['ended']}, reached step {r['steps']}/{args.pastiche_steps}"
        if tool == "pastiche" and r["per_step"]:
            ended += f", {r['per_step']:.1f} s/step: ~{r['per_step'] * 400 / 60:.0f} min for its 400"
        print(
            f"{tool:11} {size:5d} {r['time']:8.1f} {target or '-':>8} {eta or 0:11.1f} {r['rss']:8.0f} "
            f"{memory or '-':>10}  {ended}"
        )
    finished = {size: path for size, path in pictures.items() if path.exists()}
    if len(finished) > 1:
        energy = crops(finished, content, args.out / "crops.png")
        print("\nhigh-frequency energy of 256 px crops at 100% (mean square Laplacian of the luma):")
        for label, value in energy.items():
            print(f"  {label:28} {value:9.1f}")
        print(f"\ncrops: {args.out / 'crops.png'}")


if __name__ == "__main__":
    main()
