"""The settings schema: one declaration per setting, checked values, JSON for the doors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from style_core.errors import InvalidSettingError
from style_core.settings import SCHEMA, SPECS, Settings, schema_record


def test_every_setting_has_a_spec_whose_default_is_the_fields():
    settings = Settings()
    assert [spec.name for spec in SCHEMA] == list(settings.as_dict())
    for spec in SCHEMA:
        assert spec.check(spec.default) == getattr(settings, spec.name)
        assert spec.label and spec.help and spec.tier in ("basic", "advanced")
        if spec.kind in ("int", "float", "floats"):
            assert spec.minimum < spec.maximum
        if spec.kind in ("choice", "layers"):
            assert spec.choices and all(spec.choices.values())


def test_numbers_from_numpy_and_whole_floats_are_accepted():
    settings = Settings(size=np.int64(64), seed=np.uint32(7), style_strength=np.float32(1.5), steps=12.0)
    assert (settings.size, settings.seed, settings.steps) == (64, 7, 12)
    assert all(type(v) is int for v in (settings.size, settings.seed, settings.steps))
    assert type(settings.style_strength) is float


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": "abc"}, "seed must be a whole number from 0 to 2147483647; got 'abc'"),
        ({"seed": 2**70}, "seed must be a whole number from 0 to 2147483647"),
        ({"seed": None}, "seed must be a whole number"),
        ({"size": 64.5}, "size must be a whole number"),
        ({"style_strength": float("nan")}, "style_strength must be a number from 0 to 10"),
        ({"style_strength": True}, "style_strength must be a number"),
        ({"style_blend": 2.0}, "style_blend must be a list of numbers from 0 to 10"),
        ({"style_layers": ()}, "style_layers must name at least one layer"),
        ({"style_layers": ("relu1_1", "relu1_1")}, "names a layer twice"),
        ({"style_layer_weights": (1, 1)}, "2 values for 5 style layers"),
        ({"style_layer_weights": (0, 0, 0, 0, 0)}, "all zero, which turns the style off"),
        ({"style_layer_weights": (1, -1, 1, 1, 1)}, "style_layer_weights must be a number from 0"),
        ({"quality": "best"}, "quality must be one of draft, balanced, high; got 'best'"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(options, message):
    with pytest.raises(InvalidSettingError, match=message.replace("(", r"\(")):
        Settings(**options)


def test_an_unknown_setting_gets_the_closest_name():
    with pytest.raises(InvalidSettingError, match="unknown setting 'stlye_scale'; did you mean 'style_scale'"):
        Settings.from_options({"stlye_scale": 2})


def test_the_schema_as_json_for_doors_that_cannot_import_it():
    record = json.loads(json.dumps(schema_record()))
    specs = {spec["name"]: spec for spec in record["settings"]}
    assert specs["quality"]["choices"][0] == ["draft", SPECS["quality"].choices["draft"]]
    assert specs["style_layers"]["default"] == list(Settings().style_layers)
    assert specs["size"]["maximum"] == SPECS["size"].maximum
