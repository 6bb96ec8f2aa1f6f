"""Tests for fer_keras/models/architectures/simple_cnn.py: the KDEF paper's 2-layer CNN."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_keras.models.architectures.custom_cnn import LAST_CONV_LAYER
from fer_keras.errors import ModelError
from fer_keras.models.registry import build_model
from tests.harness import check_model_round_trip


def expected_params(side: int, channels: int, classes: int = 7, filters=(32, 64), units: int = 128) -> int:
    """Conv 3x3 same ×2, two 2x2 pools, Flatten → Dense units → Dense classes."""
    f1, f2 = filters
    flat = (side // 2 // 2) ** 2 * f2
    return (9 * channels + 1) * f1 + (9 * f1 + 1) * f2 + (flat + 1) * units + (units + 1) * classes


@pytest.mark.parametrize("side", (48, 128, 360))
@pytest.mark.parametrize("channels", (1, 3))
def test_builds_at_paper_sizes_with_flatten_head(side, channels):
    model = build_model("simple_cnn", (side, side, channels), 7)
    assert model.input_shape == (None, side, side, channels)
    assert model.output_shape == (None, 7)
    assert model.count_params() == expected_params(side, channels)
    assert model.get_layer("flatten").output.shape[-1] == (side // 4) ** 2 * 64
    keras.backend.clear_session()


def test_output_is_a_probability_per_class():
    model = build_model("simple_cnn", (64, 64, 3), 7)
    x = np.random.default_rng(0).uniform(0, 255, size=(3, 64, 64, 3)).astype("float32")
    probs = keras.ops.convert_to_numpy(model(x, training=False))
    assert probs.shape == (3, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_structure_rescaling_first_float32_softmax_last_conv_named():
    model = build_model("simple_cnn", (48, 48, 1), 7)
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    assert model.layers[1].scale == pytest.approx(1 / 255)
    head = model.layers[-1]
    assert head.name == "predictions" and head.dtype_policy.compute_dtype == "float32"
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.kernel_size for c in convs] == [(3, 3), (3, 3)]
    assert convs[-1].name == LAST_CONV_LAYER


def test_options_change_the_architecture():
    model = build_model("simple_cnn", (48, 48, 3), 4, filters=[8, 16], dense_units=32, dropout=0.2)
    assert model.count_params() == expected_params(48, 3, classes=4, filters=(8, 16), units=32)
    assert model.get_layer("fc1_dropout").rate == pytest.approx(0.2)


@pytest.mark.parametrize(
    "options, message",
    [({"filters": (32,)}, "filters"), ({"dense_units": 0}, "dense_units"), ({"dropout": 1.0}, "dropout")],
)
def test_bad_options_are_model_errors(options, message):
    with pytest.raises(ModelError, match=message):
        build_model("simple_cnn", (48, 48, 1), 7, **options)


def test_too_small_input_is_a_model_error():
    with pytest.raises(ModelError, match="at least 4"):
        build_model("simple_cnn", (3, 48, 1), 7)


def test_save_and_load_round_trip(tmp_path):
    model = build_model("simple_cnn", (48, 48, 1), 7)
    x = np.random.default_rng(1).uniform(0, 255, size=(2, 48, 48, 1)).astype("float32")
    check_model_round_trip(model, tmp_path, x)
