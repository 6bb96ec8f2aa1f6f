"""Tests for fer_keras/models/registry.py: names, options and errors of build_model."""

from __future__ import annotations

import keras
import pytest

from fer_keras.models import registry
from fer_keras.errors import ModelError
from fer_keras.models.registry import build_model, model_names, model_spec, register_model

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
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))

    @register_model("tiny_test_net")
    def tiny(input_shape=(8, 8, 1), num_classes=2, **options):
        inputs = keras.Input(input_shape)
        outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, outputs)

    assert "tiny_test_net" in model_names()
    # a builder taking **options accepts any option
    assert build_model("tiny_test_net", (8, 8, 1), 2, anything=1).output_shape == (None, 2)


@pytest.mark.parametrize("name", sorted(OURS | {"compact_cnn", "inception_v3", "vgg16_se", "mobilenet_v2"}))
def test_every_model_answers_bad_common_arguments_with_one_message_style(name):
    """One check for every model: the same words, naming the model, on one line."""
    spec = model_spec(name)
    side = max(spec.min_size, 32)
    bad = [
        ((side, side), {}, rf"model '{name}': input_shape must be \(height, width, "),
        ((spec.min_size - 1, side, 1), {}, rf"model '{name}': input height and width must be at least "
                                            rf"{spec.min_size}x{spec.min_size}, got {spec.min_size - 1}x{side}$"),
        ((side, side, 1), {"num_classes": 1}, rf"model '{name}': num_classes must be an int of at least 2, got 1$"),
        ((side, side, 1), {"dropout": 1.0}, rf"model '{name}': dropout must be in \[0, 1\), got 1.0$"),
    ]
    for shape, change, message in bad:
        if min(shape[:2]) < 1:
            continue
        arguments = {"num_classes": 7, **change}
        options = {k: v for k, v in arguments.items() if k != "num_classes"}
        with pytest.raises(ModelError, match=message) as error:
            build_model(name, shape, arguments["num_classes"], **options)
        assert "\n" not in str(error.value)


def test_a_spec_says_what_is_known_without_building():
    assert model_spec("custom_cnn2").min_size == 45 and model_spec("custom_cnn2").gradcam_layer == "last_conv"
    assert model_spec("inception_v3").min_size == 75 and model_spec("inception_v3").channels == (1, 3)
    assert model_spec("vgg16_se").variable_size and model_spec("vgg16_se").stem == "backbone"
    assert model_spec("vgg16").weights_file is not None and model_spec("custom_cnn1").weights_file is None
    with pytest.raises(ModelError, match="unknown model 'lenet'"):
        model_spec("lenet")


def test_a_variable_size_model_builds_for_any_size_and_others_refuse_it():
    assert build_model("vgg16_base", (None, None, 3), 3, head="gap").output_shape == (None, 3)
    with pytest.raises(ModelError, match=r"model 'custom_cnn2': input_shape must be \(height, width, channels\)"):
        build_model("custom_cnn2", (None, None, 1), 3)


def test_numpy_sizes_are_taken_as_ints():
    import numpy as np

    model = build_model("simple_cnn", tuple(np.array([48, 48, 1])), 7, dense_units=8)
    assert model.input_shape == (None, 48, 48, 1)
