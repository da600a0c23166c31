"""Running batch and video work on Ray: a local Ray on this machine, or a cluster.

A :class:`Worker` holds the network for one job's settings and turns an input row (an image,
a chunk of frames) into output rows. Without Ray, the command makes one worker and calls it
in its own process. With Ray, :func:`stream` hands the rows to a Ray Data pipeline whose
stage is a pool of actors, each holding one worker (so one network): one actor per GPU
(``num_gpus=1``) or, on machines without GPUs, one per ``cpus_per_worker`` CPUs. Output
rows stream back to the caller as each is made, and only the caller writes files, so a
cluster needs no shared disk.

Ray retries the work of an actor that dies (its node lost, say) on a new actor: a streamed
task is re-run and the rows it already delivered are not delivered again. The caller still
writes each output once only (it skips what is on disk).

Ray is an optional extra (``pip install 'style-core[ray]'``): it is imported only here, and
only when asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import StyleCoreError, UsageError
from .settings import Settings

INSTALL_HINT = "pip install 'style-core[ray]'"
#: Environment variables handed to every worker (the weight source, the Hub revision).
PASSED_ENVIRONMENT_PREFIX = "STYLE_CORE_"
#: Seconds to wait for a cluster's head node to answer before saying it can't be reached.
REACH_TIMEOUT = 5.0
#: What an HTTP/2 client sends first, then an empty SETTINGS frame: a gRPC server (Ray's head
#: node, and Ray Client's server) answers with its own SETTINGS frame at once; anything else at
#: that port stays silent or answers otherwise, and Ray would retry it for minutes.
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_HTTP2_SETTINGS = 4
#: Ray's loggers that would print around our own progress: a note that its bars are off, and
#: a line when a pipeline ends.
_RAY_CHATTER = ("ray.data._internal.progress", "ray.data._internal.execution.streaming_executor")


class Worker:
    """Does one kind of work for one job's settings. The network is built when the worker is
    (once per process: every job in it reuses it, see :func:`style_core.engine.network.network`),
    so that an actor's first job doesn't wait for it.

    Subclasses implement :meth:`process`; their constructor's keyword arguments must be
    picklable (they travel to Ray's actors).
    """

    def __init__(self, settings: Settings) -> None:
        from .engine.device import resolve_device
        from .engine.network import network
        from .engine.vgg import deepest_layer

        self.settings = settings
        self.device = resolve_device(settings.device)
        network(settings.weights, settings.pooling, deepest_layer(settings.layers), str(self.device))

    def process(self, row: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Output rows for one input row (flat dicts of numbers, strings and bytes)."""
        raise NotImplementedError


def require_ray(address: str | None = None) -> Any:
    """The ``ray`` module with Ray Data, or a one-line :class:`UsageError` with the install hint;
    likewise when nobody answers at ``address`` (``HOST:PORT``; Ray itself retries for minutes)."""
    if address is not None:
        _check_reachable(address)
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise UsageError(f"--ray needs Ray, which is not installed ({exc.name} is missing)", hint=INSTALL_HINT) from exc
    return ray


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[None]:
    """Ray, connected for the block: the running one if this process has one already,
    else a new local Ray (``address`` None) or the cluster at ``address`` (``auto``,
    ``HOST:6379`` or ``ray://HOST:10001``), disconnected at the end."""
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, sigterm)  # ray.init puts its own, which exits without a word
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"at '{address}'" if address else "on this machine"
        raise UsageError(
            f"can't start or reach Ray {where}: {' '.join(str(exc).split())[:300]}",
            hint="give the head node's address (HOST:6379, ray://HOST:10001, or auto on a cluster node)",
        ) from exc
    try:
        yield
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    """A one-line :class:`UsageError`, within :data:`REACH_TIMEOUT` seconds, for a ``HOST:PORT``
    nobody answers at, or where what answers does not speak gRPC as Ray's head node does; other
    forms (``auto``) are left to Ray."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    hint = "give the head node's address (HOST:6379, or ray://HOST:10001) and check `ray status` there"
    try:
        connection = socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT)
    except OSError as exc:  # refused, no route, or no answer within the timeout
        reason = f"no answer within {REACH_TIMEOUT:g} s" if isinstance(exc, TimeoutError) else exc.strerror or exc
        raise UsageError(f"can't reach a Ray cluster at '{address}': {reason}", hint=hint) from exc
    with connection:
        try:
            connection.sendall(_HTTP2_HELLO)
            answer: bytes | None = connection.recv(9)
        except TimeoutError:
            answer = None
        except OSError:
            answer = b""
    if answer is None or len(answer) < 9 or answer[3] != _HTTP2_SETTINGS:
        said = f"nothing within {REACH_TIMEOUT:g} s" if answer is None else "not as Ray's head node does"
        raise UsageError(f"something listens at '{address}' but no Ray head node: it answered {said}", hint=hint)


@dataclass(frozen=True)
class Placement:
    """Where a batch or a video is painted: in this process (``ray`` None), on a local Ray
    (``"local"``) or on the Ray cluster at an address; and how many actors, of how many CPUs.
    Build it with :meth:`checked`."""

    ray: str | None = None
    workers: int | None = None
    cpus_per_worker: int = 1

    @classmethod
    def checked(cls, ray: str | bool | None = None, workers: int | None = None, cpus_per_worker: int = 1) -> Placement:
        """The placement the job kinds' ``ray``, ``workers`` and ``cpus_per_worker`` ask for (``ray``
        True means ``"local"``); Ray and the cluster's address are checked now, before any work."""
        if isinstance(ray, str) and not ray.strip():
            raise UsageError(
                "--ray was given an empty address",
                hint="give the head node's address (HOST:6379, or ray://HOST:10001), or --ray alone for a local Ray",
            )
        address = "local" if ray is True else (ray or None)
        if address is not None:
            require_ray(None if address == "local" else address)
        return cls(address, workers, cpus_per_worker)

    @property
    def address(self) -> str | None:
        """The cluster's address for :func:`connected` (None: a local Ray)."""
        return None if self.ray == "local" else self.ray

    def pool(self, items: int) -> Pool:
        """The actors for ``items`` rows of work on the connected Ray."""
        return cluster_pool(items=items, workers=self.workers, cpus_per_worker=self.cpus_per_worker)


@dataclass(frozen=True)
class Pool:
    """The actors of a pipeline: how many, and what each reserves."""

    actors: int
    cpus: float
    gpus: float

    def describe(self) -> str:
        each = "1 GPU" if self.gpus else f"{self.cpus:g} CPU{'s' if self.cpus != 1 else ''}"
        return f"{self.actors} worker{'s' if self.actors != 1 else ''} ({each} each)"


def plan_pool(resources: Mapping[str, float], *, items: int, workers: int | None, cpus_per_worker: int) -> Pool:
    """One actor per GPU of the cluster, else one per ``cpus_per_worker`` CPUs; ``workers``
    overrides the count (an autoscaling cluster grows to it); never more than ``items``."""
    gpus = int(resources.get("GPU", 0))
    if gpus:
        slots, cpus, per_gpu = gpus, 1.0, 1.0
    else:
        slots, cpus, per_gpu = max(1, int(resources.get("CPU", 1)) // cpus_per_worker), float(cpus_per_worker), 0.0
    return Pool(max(1, min(workers or slots, items)), cpus, per_gpu)


def cluster_pool(*, items: int, workers: int | None, cpus_per_worker: int) -> Pool:
    """:func:`plan_pool` for the Ray this process is connected to."""
    return plan_pool(require_ray().cluster_resources(), items=items, workers=workers, cpus_per_worker=cpus_per_worker)


class _Actor:
    """The callable class of the Ray Data stage: builds one worker per actor process, then
    streams each input row's output rows (one-row batches)."""

    def __init__(self, worker_class: type[Worker], kwargs: list[Any], threads: float) -> None:
        import ray
        import torch

        if threads >= 1:
            torch.set_num_threads(int(threads))
        self.worker = worker_class(**ray.get(kwargs[0]))

    def __call__(self, batch: dict[str, Any]) -> Iterator[dict[str, list[Any]]]:
        columns = list(batch)
        for i in range(len(batch[columns[0]])):
            row = {name: _plain(batch[name][i]) for name in columns}
            for out in self.worker.process(row):
                yield {name: [value] for name, value in out.items()}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds; bytes and strings as they are."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (bytes, str)) else value


@contextlib.contextmanager
def _quiet_loggers() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _RAY_CHATTER]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


def stream(
    worker_class: type[Worker], kwargs: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], pool: Pool
) -> Iterator[dict[str, Any]]:
    """Run ``worker_class(**kwargs).process(row)`` for every row on a pool of Ray actors,
    yielding output rows as they are made (in no particular order).

    An error inside a worker ends the stream with that error (a :class:`StyleCoreError` as
    itself, so the caller shows its one line); a worker whose process dies is replaced and
    its row retried.
    """
    ray = require_ray()
    from ray.exceptions import RayTaskError

    kwargs_ref = ray.put(dict(kwargs))
    env = {key: value for key, value in os.environ.items() if key.startswith(PASSED_ENVIRONMENT_PREFIX)}
    with _quiet_loggers():
        dataset = ray.data.from_items([dict(row) for row in rows], override_num_blocks=len(rows))
        context = dataset.context  # this dataset's own copy
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.target_max_block_size = 1  # every output row is its own block: it streams back at once
        dataset = dataset.map_batches(
            _Actor,
            fn_constructor_kwargs={"worker_class": worker_class, "kwargs": [kwargs_ref], "threads": pool.cpus},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=pool.actors),
            num_cpus=pool.cpus,
            num_gpus=pool.gpus,
            runtime_env={"env_vars": env} if env else None,
        )
        try:
            yield from dataset.iter_rows()
        except RayTaskError as exc:
            cause = _cause(exc)
            if isinstance(cause, StyleCoreError):
                raise cause from None
            raise


def _cause(error: BaseException) -> BaseException:
    """The innermost user exception of a Ray error (Ray nests them as causes)."""
    seen = 0
    while seen < 10:
        inner = getattr(error, "cause", None) or error.__cause__
        if inner is None or inner is error:
            return error
        error, seen = inner, seen + 1
    return error
