"""Tests for fer_keras/models/registry.py: names, options and errors of build_model."""

from __future__ import annotations

import keras
import pytest

from fer_keras.models import registry
from fer_keras.errors import ModelError
from fer_keras.models.registry import build_model, model_names, register_model

OURS = {"custom_cnn1", "custom_cnn2", "custom_cnn3", "simple_cnn"}


def test_model_names_lists_the_registered_models():
    names = model_names()
    assert OURS <= set(names)
    assert names == sorted(names)


def test_unknown_model_name_is_one_line_listing_known_names():
    with pytest.raises(ModelError) as error:
        build_model("no_such_net", (48, 48, 1), 7)
    message = str(error.value)
    assert "\n" not in message
    assert "'no_such_net'" in message
    for name in OURS:
        assert name in message


def test_unknown_option_is_a_model_error_naming_it_and_the_allowed_ones():
    with pytest.raises(ModelError) as error:
        build_model("custom_cnn2", (48, 48, 1), 7, dropuot=0.3)
    message = str(error.value)
    assert "\n" not in message
    assert "dropuot" in message and "dropout" in message
    assert "input_shape" not in message


def test_options_and_shape_are_passed_to_the_builder():
    model = build_model("custom_cnn1", [48, 48, 1], 3, dropout=0.25)
    assert model.output_shape == (None, 3)
    assert model.get_layer("fc1_dropout").rate == pytest.approx(0.25)


def test_register_model_adds_a_builder(monkeypatch):
    monkeypatch.setattr(registry, "_BUILDERS", dict(registry._BUILDERS))

    @register_model("tiny_test_net")
    def tiny(input_shape=(8, 8, 1), num_classes=2, **options):
        inputs = keras.Input(input_shape)
        outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, outputs)

    assert "tiny_test_net" in model_names()
    # a builder taking **options accepts any option
    assert build_model("tiny_test_net", (8, 8, 1), 2, anything=1).output_shape == (None, 2)
