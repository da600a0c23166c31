"""style_core against an earlier version of itself, side by side in one run, at 512 px.

For each bench pair, the earlier version (a git revision, checked out into a temporary
worktree) and this one run their defaults, each in its own process. Prints wall time, peak
RSS and the yardstick ratios (:mod:`fixtures.yardstick`) of both, and the time this version
takes to reach the earlier version's final quality (both ratios at least as good); saves the
pictures side by side in bench/out/against.png.

    .venv/bin/python bench/against.py f5ae40c          # the version before the any-size work
    .venv/bin/python bench/against.py f5ae40c --pairs 0
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from run import IMAGES, PAIRS, run_measured, side_by_side, tensor, time_to_reach

from style_core.engine.network import network
from style_core.image import resize, size_for_long_side

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.yardstick import Yardstick

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run_version(tree: Path, content: Path, style: Path, out: Path, size: int) -> dict:
    """One default run of the style_core in ``tree``, in its own process."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(tree / "bench" / "run_style_core.py"), str(content), str(style), str(out), str(size)]
    env = os.environ | {"PYTHONPATH": str(tree)}
    wall, rss = run_measured(command, env=env)
    return {
        "time": wall,
        "rss": rss,
        "image": out / "result.png",
        "events": json.loads((out / "events.json").read_text()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the earlier version: a git revision")
    parser.add_argument("--pairs", type=int, nargs="+", default=None, help="which pairs (0-based) to run")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--images", type=Path, default=IMAGES)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "against")
    args = parser.parse_args()
    pairs = [PAIRS[i] for i in args.pairs] if args.pairs else PAIRS
    net, _ = network("offline", "max", "relu5_1", "cpu")
    rows, results = [], []
    with tempfile.TemporaryDirectory(prefix="style_core-earlier-") as folder:
        earlier = Path(folder) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(earlier), args.revision], check=True)
        try:
            for content_name, style_name in pairs:
                content, style = args.images / content_name, args.images / style_name
                name = f"{Path(content_name).stem}+{Path(style_name).stem}"
                print(f"== {name}: {args.revision}, then this version, at {args.size} px", flush=True)
                before = run_version(earlier, content, style, args.out / name / "earlier", args.size)
                now = run_version(REPO, content, style, args.out / name / "now", args.size)
                c = tensor(content)
                dims = size_for_long_side(c.shape[-1], c.shape[-2], args.size)
                yardstick = Yardstick(net, resize(c, *dims), tensor(style))
                before["ratios"] = yardstick.ratios(tensor(before["image"]))
                now["ratios"] = yardstick.ratios(tensor(now["image"]))
                now["reached"], _ = time_to_reach(now["events"], yardstick, before["ratios"], args.size)
                results.append((name, before, now))
                rows.append([content, style, before["image"], now["image"]])
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(earlier)], check=False)

    print()
    print(f"{'pair':38} {'version':9} {'time s':>7} {'RSS MiB':>8} {'style':>7} {'content':>8} {'reached s':>9}")
    for name, before, now in results:
        for label, r in ((args.revision[:9], before), ("now", now)):
            reached = f"{r['reached']:9.1f}" if r.get("reached") else f"{'-' if r is before else 'never':>9}"
            print(
                f"{name:38} {label:9} {r['time']:7.1f} {r['rss']:8.0f} {r['ratios'].style:7.4f} "
                f"{r['ratios'].content:8.4f} {reached}"
            )
    print()
    print(f"{'pair':38} {'time ratio':>10} {'to reach':>9} {'RSS ratio':>9}")
    for name, before, now in results:
        to_reach = f"{now['reached'] / before['time']:9.3f}" if now["reached"] else f"{'never':>9}"
        print(f"{name:38} {now['time'] / before['time']:10.3f} {to_reach} {now['rss'] / before['rss']:9.3f}")
    side_by_side(rows, ["content", "style", args.revision[:9], "now"], args.out.parent / "against.png")
    print(f"\npictures: {args.out.parent / 'against.png'}")


if __name__ == "__main__":
    main()
