"""Property-based tests (hypothesis): whatever a caller passes, the engine works or says in one line
what is wrong (a :class:`StyleCoreError`), never a raw exception, and what it accepts it reads right.

Image inputs: numpy arrays and tensors of every shape, dtype and value range, PIL images of every
mode, paths. Settings: good and bad values of every schema setting (numpy scalars, None, NaN,
text, huge integers), alone and together, then a :class:`Job` built on them (no run). Devices.
A few real tiny runs (64 px, one step) on random small images with odd shapes.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from style_core.engine.device import resolve_device
from style_core.errors import ImageError, InvalidSettingError, StyleCoreError
from style_core.events import Finished
from style_core.image import FLOAT_SLACK, MIN_SIDE, load_image, output_size, size_for_long_side
from style_core.job import Job
from style_core.settings import RELU_LAYERS, SCHEMA, Settings, Spec

#: Modest and repeatable: the same examples on every run (CI included), no example database on disk.
QUICK = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def assert_one_line(error: StyleCoreError) -> None:
    text = str(error)
    assert text and len(text.splitlines()) == 1, repr(text)


def works_or_says_why(call):
    """``call()``'s result, or None when it raised a one-line StyleCoreError; anything else fails the test."""
    try:
        return call()
    except StyleCoreError as error:
        assert_one_line(error)
        return None


# -- image inputs ---------------------------------------------------------------------------------

DTYPES = (
    np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.bool_, np.complex64,
)  # fmt: skip
#: Value ranges a caller's pixels come in: right, 8-bit as floats, 16-bit, [-1, 1], junk, constant.
RANGES = ((0, 1), (0, 255), (0, 65535), (-1, 1), (-1e6, 1e6), (0, 1.05), (0.5, 0.5), (70_000, 1e9))


@st.composite
def pixel_arrays(draw) -> np.ndarray:
    """(H, W) or (H, W, C) arrays, C in 1-5, of any dtype, with values from one of RANGES (some NaN)."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    side = st.one_of(st.integers(MIN_SIDE, 40), st.integers(MIN_SIDE, 40), st.integers(0, MIN_SIDE - 1))
    height, width = draw(side), draw(side)
    channels = draw(st.sampled_from([None, 1, 3, 3, 4, 2, 5]))
    shape = (height, width) if channels is None else (height, width, channels)
    low, high = draw(st.sampled_from(RANGES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.uniform(low, high, shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.round(values), info.min, info.max)
    elif dtype.kind == "b":
        values = values > (low + high) / 2
    elif dtype.kind == "f" and values.size and draw(st.booleans()):
        values.flat[draw(st.integers(0, values.size - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    with np.errstate(over="ignore"):  # 1e9 as float16 is inf: an input like any other
        return values.astype(dtype)


def expected_unit_values(values: np.ndarray) -> np.ndarray | None:
    """The reading rule (image.py's docstring), written out independently: [0, 1] float64, or None to refuse."""
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] not in (1, 3, 4)):
        return None
    if min(values.shape[:2]) < MIN_SIDE:
        return None
    kind, bits = values.dtype.kind, values.dtype.itemsize * 8
    if kind == "b":
        return values.astype(np.float64)
    if kind == "u" and bits in (8, 16):
        return values / (2.0**bits - 1)
    if kind in "iu":
        if values.min() < 0 or values.max() > 65535:
            return None
        return values / (255.0 if values.max() <= 255 else 65535.0)
    if kind == "f":
        wide = values.astype(np.float64)
        if not np.isfinite(wide).all() or wide.min() < -FLOAT_SLACK or wide.max() > 1 + FLOAT_SLACK:
            return None
        return np.clip(wide, 0, 1)
    return None


def check_read(values: np.ndarray, image) -> None:
    """``image`` (a loaded RGBImage or None) is what the rule says for ``values`` (H, W[, C])."""
    expected = expected_unit_values(values)
    if expected is None:
        assert image is None, f"{values.dtype} {values.shape} was accepted but the rule refuses it"
        return
    assert image is not None, f"{values.dtype} {values.shape} was refused but the rule reads it"
    planes = expected[..., None] if expected.ndim == 2 else expected
    rgb = np.repeat(planes, 3, axis=2) if planes.shape[2] == 1 else planes[..., :3]
    assert image.rgb.dtype == torch.float32 and image.rgb.shape == (1, 3, *values.shape[:2])
    np.testing.assert_allclose(image.rgb[0].permute(1, 2, 0).numpy(), rgb, atol=2e-3)  # float16 inputs round
    assert (image.alpha is not None) == (planes.shape[2] == 4)
    if image.alpha is not None:
        np.testing.assert_allclose(image.alpha[0, 0].numpy(), planes[..., 3], atol=2e-3)


@QUICK
@given(pixel_arrays())
def test_numpy_arrays_are_read_by_the_rule_or_refused_in_one_line(values):
    check_read(values, works_or_says_why(lambda: load_image(values)))


@QUICK
@given(pixel_arrays(), st.sampled_from(["chw", "batch", "bfloat16"]))
def test_tensors_are_read_like_their_arrays(values, layout):
    tensor = torch.from_numpy(values)
    if values.ndim == 3:
        tensor = tensor.permute(2, 0, 1)
    if layout == "batch":
        tensor = tensor.unsqueeze(0)
    if layout == "bfloat16" and values.dtype.kind == "f":
        tensor = tensor.float().bfloat16()
        values = tensor.float().numpy() if values.ndim == 2 else tensor.float().permute(1, 2, 0).numpy()
    check_read(values, works_or_says_why(lambda: load_image(tensor)))


PIL_MODES = ("1", "L", "P", "RGB", "RGBA", "LA", "La", "PA", "RGBa", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F")


@QUICK
@given(
    st.sampled_from(PIL_MODES),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 40, 255]),
)
def test_pil_images_of_every_mode_work_or_are_refused_in_one_line(mode, width, height, seed, brightest):
    rgb = np.random.default_rng(seed).integers(0, brightest + 1, (height, width, 3)).astype(np.uint8)
    source = Image.fromarray(rgb).convert(mode)
    image = works_or_says_why(lambda: load_image(source))
    if min(width, height) < MIN_SIDE:
        assert image is None
        return
    if mode == "F":  # floats hold 0-255 here: refused unless they happen to lie in [0, 1]
        assert (image is None) == (np.asarray(source).max() > 1 + FLOAT_SLACK)
    else:
        assert image is not None, mode
    if image is not None:
        assert image.rgb.shape == (1, 3, height, width) and 0 <= image.rgb.min() <= image.rgb.max() <= 1
    if mode in ("L", "I", "I;16") and image is not None:  # whole numbers: 8-bit data in I, 16-bit in I;16
        grey = np.asarray(Image.fromarray(rgb).convert("L"), np.float64)
        scale = 65535.0 if mode == "I;16" else 255.0
        np.testing.assert_allclose(image.rgb[0, 0].numpy(), grey / scale, atol=1e-6)


@QUICK
@given(st.one_of(st.text(max_size=30), st.binary(max_size=30).map(lambda b: b.decode("latin-1"))))
def test_any_path_text_is_read_or_refused_in_one_line(text):
    works_or_says_why(lambda: load_image(text))


@QUICK
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=5), st.lists(st.integers(), max_size=2)))
def test_other_objects_are_refused_in_one_line(source):
    assert works_or_says_why(lambda: load_image(source)) is None


# -- settings -------------------------------------------------------------------------------------

#: Values no setting should take, or only by luck: the junk a form, a JSON body or a script sends.
JUNK = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from([10**400, -(10**400), 2**70, True, False, b"relu1_1", (), [], {}, [[1]], {"a": 1}]),
    st.sampled_from([np.int64(64), np.float32(0.5), np.float64(math.nan), np.bool_(True), np.str_("x")]),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=4), st.just(10**400), st.just([1])), max_size=3),
)


def numbers_for(spec: Spec) -> st.SearchStrategy:
    """In-range numbers for ``spec`` as Python, numpy and text values, and out-of-range ones."""
    low, high = spec.minimum, spec.maximum
    inside = st.integers(int(low), int(high)) if spec.kind == "int" else st.floats(low, high)
    edges = st.sampled_from([low - 1, high + 1, low - 1e-9, high * 2, -high])
    as_numpy = inside.map(np.int64 if spec.kind == "int" else np.float32)
    return st.one_of(inside, as_numpy, inside.map(float), inside.map(str), edges)


def values_for(spec: Spec) -> st.SearchStrategy:
    if spec.kind in ("int", "float"):
        good = numbers_for(spec)
    elif spec.kind == "choice":
        names = list(spec.choices)
        good = st.one_of(
            st.sampled_from(names), st.sampled_from(names).map(np.str_), st.sampled_from(names).map(str.upper)
        )
    elif spec.kind == "layers":
        names = st.sampled_from([*RELU_LAYERS, "relu9_9", "conv1_1", "RELU1_1"])
        good = st.one_of(names, st.lists(names, max_size=5), st.lists(names, max_size=5).map(tuple))
    elif spec.kind == "floats":
        item = st.one_of(st.floats(-1, spec.maximum * 1.2), st.integers(0, 3), st.floats(0, 3).map(np.float64))
        good = st.one_of(st.lists(item, max_size=6), st.lists(item, max_size=3).map(np.array), item)
    else:
        good = st.one_of(st.text(max_size=12), st.sampled_from(["cpu", "auto", "offline", "  ", ""]))
    return st.one_of(good, JUNK)


def check_settings(made: Settings | None) -> None:
    """Whatever a Settings holds is normalised: Python numbers in range, known names, tuples."""
    if made is None:
        return
    for spec in SCHEMA:
        value = getattr(made, spec.name)
        if value is None:
            assert spec.optional
        elif spec.kind == "int":
            assert type(value) is int and spec.minimum <= value <= spec.maximum
        elif spec.kind == "float":
            assert type(value) is float and spec.minimum <= value <= spec.maximum
        elif spec.kind == "choice":
            assert value in spec.choices
        elif spec.kind == "layers":
            assert isinstance(value, tuple) and value and all(name in spec.choices for name in value)
        elif spec.kind == "floats":
            assert isinstance(value, tuple) and all(
                type(v) is float and spec.minimum <= v <= spec.maximum for v in value
            )
        else:
            assert isinstance(value, str) and value.strip() == value and value


@pytest.mark.parametrize("spec", SCHEMA, ids=lambda spec: spec.name)
def test_every_setting_takes_good_values_and_refuses_bad_ones_in_one_line(spec):
    @QUICK
    @given(values_for(spec))
    def check(value):
        check_settings(works_or_says_why(lambda: Settings(**{spec.name: value})))

    check()


@st.composite
def option_sets(draw) -> dict:
    names = draw(st.lists(st.sampled_from([spec.name for spec in SCHEMA]), unique=True, max_size=6))
    options = {name: draw(values_for(next(s for s in SCHEMA if s.name == name))) for name in names}
    if draw(st.booleans()):
        options[draw(st.text(min_size=1, max_size=10))] = draw(JUNK)  # perhaps an unknown name
    return options


@QUICK
@given(option_sets())
def test_settings_together_work_or_are_refused_in_one_line(options):
    check_settings(works_or_says_why(lambda: Settings.from_options(options)))


@QUICK
@given(option_sets(), pixel_arrays(), st.integers(1, 3))
def test_a_job_is_built_or_refused_in_one_line_before_any_work(options, content, count):
    options.pop("device", None)  # a CUDA or MPS device is refused here either way: keep the CPU
    styles = [np.full((20 + i, 24, 3), 40 * i, np.uint8) for i in range(count)]
    job = works_or_says_why(lambda: Job(content, styles, options))
    if job is not None:
        assert job.plan.width >= 1 and job.plan.height >= 1


# -- devices --------------------------------------------------------------------------------------


@QUICK
@given(
    st.one_of(
        st.none(),
        st.text(max_size=10),
        st.sampled_from(["cpu", " CPU ", "cuda", "cuda:0", "cuda:7", "mps", "auto", "cpu:0", "meta", "gpu", "cuda:x"]),
        st.integers(-2, 3),
        st.floats(),
        st.binary(max_size=4),
        st.sampled_from([np.str_("cpu"), np.int64(0), torch.device("cpu"), ["cpu"]]),
    )
)
def test_devices_resolve_or_are_refused_in_one_line(name):
    device = works_or_says_why(lambda: resolve_device(name))
    if device is not None:
        assert device.type in ("cpu", "cuda", "mps")


def test_device_names_are_read_as_people_write_them():
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device(np.str_("cpu")) == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    for bad in (1.5, ["cpu"], b"cpu", 0):
        with pytest.raises(StyleCoreError, match="device must be one of auto, cuda, mps, cpu or cuda:N"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(StyleCoreError, match="'cuda:1' was asked for, but no CUDA GPU"):
            resolve_device("cuda:1")
    else:
        with pytest.raises(StyleCoreError, match=r"'cuda:99' was asked for, but this machine has \d+ CUDA GPU"):
            resolve_device("cuda:99")


# -- real tiny runs -------------------------------------------------------------------------------

#: (height, width) of contents: thin ones among them, each side at least MIN_SIDE.
ODD_SHAPES = ((20, 90), (300, 20), (16, 16), (17, 63), (64, 16), (16, 400), (41, 29))


@settings(QUICK, max_examples=6)
@example((20, 90), (40, 50), 0, {})  # the thin shapes of issue 13, always
@example((300, 20), (16, 60), 1, {"style_scale": 0.1})
@example((16, 400), (41, 29), 2, {})
@given(
    st.sampled_from(ODD_SHAPES),
    st.tuples(st.integers(MIN_SIDE, 60), st.integers(MIN_SIDE, 60)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([{}, {"style_scale": 0.1}, {"style_scale": 4.0}, {"preserve_colors": "luminance"}]),
)
def test_tiny_real_runs_on_odd_shapes_finish(content_shape, style_shape, seed, extra):
    """At 64 px, or, where 64 px would leave a side under MIN_SIDE, at the size the refusal names."""
    rng = np.random.default_rng(seed)
    content = rng.integers(0, 256, (*content_shape, 3)).astype(np.uint8)
    style = rng.integers(0, 256, (*style_shape, 3)).astype(np.uint8)
    settings = {"size": 64, "steps": 1, "seed": seed % 2**31} | extra
    height, width = content_shape
    try:
        job = Job(content, style, settings)
    except ImageError as refused:
        assert min(size_for_long_side(width, height, 64)) < MIN_SIDE
        settings["size"] = int(re.search(r"choose a size of (\d+) or more", str(refused)).group(1))
        job = Job(content, style, settings)
    finished = [event for event in job.run() if isinstance(event, Finished)]
    assert len(finished) == 1
    result = finished[0].result
    assert result.size == (job.plan.width, job.plan.height) and max(result.size) == settings["size"]
    assert min(result.size) >= MIN_SIDE
    assert abs(result.size[0] / result.size[1] - width / height) < 0.5 * width / height + 0.1
    assert torch.isfinite(result.rgb).all() and 0 <= result.rgb.min() <= result.rgb.max() <= 1


@QUICK
@given(st.integers(MIN_SIDE, 20_000), st.integers(MIN_SIDE, 20_000), st.integers(0, 8192))
def test_an_output_keeps_the_minimum_side_or_names_the_smallest_size_that_does(width, height, size):
    """Issue 16: 9000x100 at 64 px was painted as 64x1. An output has the inputs' minimum side:
    the size is kept, or refused in one line naming the smallest size that keeps it."""
    try:
        out = output_size(width, height, size)
    except ImageError as refused:
        assert_one_line(refused)
        assert min(size_for_long_side(width, height, size or max(width, height))) < MIN_SIDE
        smallest = int(re.search(r"choose a size of (\d+) or more", str(refused)).group(1))
        assert min(size_for_long_side(width, height, smallest)) >= MIN_SIDE
        assert min(size_for_long_side(width, height, smallest - 1)) < MIN_SIDE
        return
    assert out == size_for_long_side(width, height, size or max(width, height)) and min(out) >= MIN_SIDE


@QUICK
@given(st.one_of(JUNK.filter(lambda value: value is not None and not isinstance(value, dict)), st.text(max_size=20)))
def test_settings_that_are_no_mapping_are_refused_in_one_line(value):
    """``Job(settings=5)`` or ``"size=64"``: one line saying what settings are, not a TypeError."""
    with pytest.raises(InvalidSettingError, match="settings must be a Settings or a mapping") as caught:
        Settings.from_options(value)
    assert_one_line(caught.value)


@QUICK
@given(st.lists(st.sampled_from(["a.png", "b.png"]), max_size=4), st.sampled_from([list, tuple, iter]))
def test_style_masks_as_any_iterable_are_counted_as_given(names, kind):
    """A generator or a tuple of masks is read as the list it yields; a string is one mask."""
    from style_core.job import as_list

    assert as_list(kind(names), "style_masks") == names
    assert as_list("m.png", "style_masks") == ["m.png"]
