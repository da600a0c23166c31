"""scripts/setup.sh run as on a machine whose torch comes from a package index, and as on this one.

A PEP 503 index on 127.0.0.1 holds the smallest torch wheel found on this machine's disk and
every wheel the package needs; setup.sh runs with pip's configuration pointed at that index
alone, into a new venv in a temporary folder (about a minute and 1 GB each).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_index import (
    SimpleIndex,
    fill_wheelhouse,
    local_torch_wheels,
    pip_environment,
    project_dependencies,
    wheel_version,
)

ROOT = Path(__file__).resolve().parents[1]
#: What the package's build needs from the repository.
PROJECT_FILES = ("pyproject.toml", "README.md", "style_core", "scripts")


@pytest.fixture(scope="module")
def torch_wheel() -> Path:
    wheels = local_torch_wheels()
    if not wheels:
        pytest.fail("no torch wheel for this Python on this machine's disk (pip's find-links or file:// indexes)")
    return wheels[0]


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, torch_wheel: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("wheelhouse")
    fill_wheelhouse(folder, torch_wheel, project_dependencies(ROOT / "pyproject.toml"))
    yield folder
    shutil.rmtree(folder)  # a few hundred MB


@pytest.fixture
def venv(tmp_path: Path) -> Iterator[Path]:
    """Where setup.sh makes its venv; removed after the test (about 1 GB)."""
    yield tmp_path / "venv"
    shutil.rmtree(tmp_path / "venv", ignore_errors=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's package files (an editable install writes beside them)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def run_setup(project: Path, venv: Path, env: dict[str, str], *, debian_version: str | None = None):
    """``bash scripts/setup.sh ""`` (no extras) into ``venv``; with ``debian_version``, /etc/debian_version
    reads so (a bind mount in a private mount namespace: the machine's own file is untouched)."""
    command = ["bash", "scripts/setup.sh", ""]
    if debian_version is not None:
        fake = venv.parent / "debian_version"
        fake.write_text(debian_version + "\n")
        command = [
            "unshare",
            "--mount",
            "sh",
            "-c",
            'mount --bind "$0" /etc/debian_version && exec "$@"',
            fake,
            *command,
        ]
    env = env | {"STYLE_CORE_VENV": str(venv), "PIP_CACHE_DIR": str(venv.parent / "pip-cache")}
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def _torch_of(venv: Path) -> str:
    return subprocess.run(
        [venv / "bin" / "python", "-c", "import style_core, torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_torch_comes_from_the_package_index_when_none_is_on_disk(project, venv, wheelhouse, torch_wheel):
    """No pip configuration, no local wheels: torch is installed from the index, and setup says so.
    On a Debian testing machine (/etc/debian_version = "trixie/sid") where that file exists."""
    debian = "trixie/sid" if Path("/etc/debian_version").is_file() else None
    with SimpleIndex(wheelhouse) as index:
        done = run_setup(project, venv, pip_environment(PIP_INDEX_URL=index.url), debian_version=debian)
        fetched = [path for path in index.requests if path.startswith("/files/torch-")]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"installing torch from the package index ({index.url})" in done.stdout
    assert (
        f"installed torch {wheel_version(torch_wheel)} from {index.url[: -len('simple/')]}files/torch-" in done.stdout
    )
    assert fetched == [f"/files/{torch_wheel.name}"]
    assert "integer expression" not in done.stderr and "from this machine's disk" not in done.stdout
    assert _torch_of(venv) == wheel_version(torch_wheel)


def test_a_torch_wheel_on_disk_is_preferred_to_the_index(tmp_path, project, venv, wheelhouse, torch_wheel):
    """The same index, and a find-links folder holding the same wheel: torch comes from the folder."""
    links = tmp_path / "links"
    links.mkdir()
    os.symlink(torch_wheel, links / torch_wheel.name)
    with SimpleIndex(wheelhouse) as index:
        env = pip_environment(PIP_INDEX_URL=index.url, PIP_FIND_LINKS=str(links))
        done = run_setup(project, venv, env)
        fetched = [path for path in index.requests if path.startswith("/files/torch-")]
        again = run_setup(project, venv, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"installing torch {wheel_version(torch_wheel)} from this machine's disk" in done.stdout
    assert "package index" not in done.stdout
    assert fetched == []
    assert _torch_of(venv) == wheel_version(torch_wheel)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"keeping the torch already in {venv}" in again.stdout
