"""A PEP 503 package index on 127.0.0.1, filled with wheels from this machine, for install tests.

:func:`local_torch_wheels` finds the torch wheels that pip's configuration has on local disk
(find-links folders and ``file://`` indexes); :func:`fill_wheelhouse` puts one of them and
everything a project needs (``pip download``) in a folder; :class:`SimpleIndex` serves that
folder as ``/simple/<project>/`` pages linking to ``/files/<wheel>#sha256=...``, and records
every request, so that a test can tell which files were fetched from it.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import tomllib
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

SOURCE_OPTIONS = ("find-links", "index-url", "extra-index-url")


def pip_local_sources() -> tuple[list[Path], list[Path]]:
    """(find-links folders, ``file://`` simple-index folders) named by pip's configuration and PIP_* variables."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    links: list[Path] = []
    indexes: list[Path] = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        option = key.rsplit(".", 1)[-1]
        if option not in SOURCE_OPTIONS:
            continue
        for item in value.strip().strip("'\"").split():
            path = Path(url2pathname(urlsplit(item).path)) if item.startswith("file:") else Path(item)
            target = links if option == "find-links" else indexes
            if path.is_dir() and path not in target and (option == "find-links" or item.startswith("file:")):
                target.append(path)
    return links, indexes


def _index_page_files(page_folder: Path) -> list[Path]:
    """The files a ``file://`` simple-index page (``<index>/<project>/index.html``) links to."""
    page = page_folder / "index.html"
    if not page.is_file():
        return []
    base = page_folder.as_uri() + "/"
    files = []
    for href in re.findall(r'href="([^"]+)"', page.read_text()):
        url = urljoin(base, html.unescape(href)).split("#")[0]
        if url.startswith("file:"):
            files.append(Path(url2pathname(unquote(urlsplit(url).path))))
    return files


def local_torch_wheels() -> list[Path]:
    """torch wheels on this machine's disk that this Python can install, smallest first."""
    links, indexes = pip_local_sources()
    found = [p for folder in links for p in folder.glob("torch-*.whl")]
    found += [p for index in indexes for p in _index_page_files(index / "torch") if p.name.endswith(".whl")]
    supported = set(sys_tags())
    wheels = {p.resolve() for p in found if p.is_file() and parse_wheel_filename(p.name)[3] & supported}
    return sorted(wheels, key=lambda p: p.stat().st_size)


def wheel_version(wheel: Path) -> str:
    return str(parse_wheel_filename(wheel.name)[1])


def project_dependencies(pyproject: Path) -> list[str]:
    """The ``[project] dependencies`` of a pyproject.toml, as requirement strings."""
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def fill_wheelhouse(folder: Path, torch_wheel: Path, requirements: list[str]) -> list[Path]:
    """``torch_wheel`` and every wheel ``requirements`` need beside it (pip's own sources), in ``folder``.

    ``setuptools`` is added: pip builds a project in an isolated environment that takes its
    build backend from the index too.
    """
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(folder)]
    subprocess.run([*command, str(torch_wheel), "setuptools>=77", *requirements], check=True, timeout=600)
    return sorted(folder.glob("*.whl"))


class SimpleIndex:
    """A PEP 503 index of the wheels in ``folder``, served on 127.0.0.1 (a context manager).

    ``url`` is the index's root (``http://127.0.0.1:PORT/simple/``); ``requests`` lists the
    paths asked for, in order.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        projects: dict[str, list[Path]] = {}
        for wheel in sorted(folder.glob("*.whl")):
            projects.setdefault(canonicalize_name(parse_wheel_filename(wheel.name)[0]), []).append(wheel)
        self.pages = {"/simple/": _page((f"{name}/", name) for name in sorted(projects))}
        for name, wheels in projects.items():
            links = ((f"../../files/{w.name}#sha256={_sha256(w)}", w.name) for w in wheels)
            self.pages[f"/simple/{name}/"] = _page(links)
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                index.requests.append(path)
                if path in index.pages:
                    self._send(index.pages[path].encode(), "text/html")
                elif path.startswith("/files/") and (folder / path[len("/files/") :]).is_file():
                    self._send((folder / path[len("/files/") :]).read_bytes(), "application/octet-stream")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SimpleIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _page(links) -> str:
    anchors = "\n".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a><br>' for href, text in links)
    return f"<!DOCTYPE html>\n<html><body>\n{anchors}\n</body></html>\n"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without pip's configuration: no config files, no PIP_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "VIRTUAL_ENV"}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"} | overrides
