"""Tests for fer_keras.models.attention: SE and CBAM shapes, parameters, gates, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_keras.models.attention import CBAM, SqueezeExcite
from fer_keras.errors import ModelError
from tests.harness import check_layer, check_model_round_trip

BATCH, SIDE, CHANNELS = 2, 8, 64


def _features(seed: int = 0, channels: int = CHANNELS) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(BATCH, SIDE, SIDE, channels)).astype("float32")


def _se_params(channels: int, reduction: int) -> int:
    return 2 * channels * channels // reduction + channels + channels // reduction


@pytest.mark.parametrize("layer_class", [SqueezeExcite, CBAM])
def test_output_shape_equals_input_shape(layer_class):
    x = _features()
    assert layer_class()(x).shape == x.shape
    assert layer_class().compute_output_shape((None, SIDE, SIDE, CHANNELS)) == (None, SIDE, SIDE, CHANNELS)


@pytest.mark.parametrize("channels, reduction", [(64, 16), (128, 16), (64, 8), (32, 4)])
def test_squeeze_excite_parameter_count(channels, reduction):
    layer = SqueezeExcite(reduction=reduction)
    layer.build((None, SIDE, SIDE, channels))
    assert layer.count_params() == _se_params(channels, reduction)
    assert layer.squeeze.units == channels // reduction


def test_squeeze_excite_default_reduction_is_16():
    assert SqueezeExcite().reduction == 16
    assert CBAM().reduction == 16


def test_cbam_spatial_conv_is_7x7_over_two_descriptors_and_parameter_count():
    layer = CBAM()
    layer.build((None, SIDE, SIDE, CHANNELS))
    assert tuple(layer.spatial_conv.kernel.shape) == (7, 7, 2, 1)
    assert layer.count_params() == _se_params(CHANNELS, 16) + 7 * 7 * 2


def test_squeeze_excite_gates_are_in_unit_interval_and_scale_the_input():
    x = _features(1)
    layer = SqueezeExcite(reduction=8)
    output = keras.ops.convert_to_numpy(layer(x))
    gates = keras.ops.convert_to_numpy(layer.scale(x))
    assert gates.shape == (BATCH, 1, 1, CHANNELS)
    assert np.all((gates > 0) & (gates < 1))
    np.testing.assert_allclose(output, x * gates, rtol=1e-6)
    assert not np.allclose(gates, gates.mean())  # gates depend on the channel


def test_cbam_channel_then_spatial_attention():
    x = _features(2)
    layer = CBAM(reduction=8)
    output = keras.ops.convert_to_numpy(layer(x))
    channel = keras.ops.convert_to_numpy(layer.channel_attention(x))
    assert channel.shape == (BATCH, 1, 1, CHANNELS)
    assert np.all((channel > 0) & (channel < 1))
    refined = x * channel
    spatial = keras.ops.convert_to_numpy(layer.spatial_attention(refined))
    assert spatial.shape == (BATCH, SIDE, SIDE, 1)
    assert np.all((spatial > 0) & (spatial < 1))
    np.testing.assert_allclose(output, refined * spatial, rtol=1e-5, atol=1e-6)


def test_cbam_channel_attention_uses_both_average_and_max_pooling():
    layer = CBAM(reduction=8)
    x = _features(3)
    layer(x)
    shifted = x.copy()
    shifted[:, 0, 0, :] += 5.0  # changes channel maxima and means
    spiky = x.copy()
    spiky[:, 0, 0, :] += 5.0
    spiky[:, 0, 1, :] -= 5.0  # same means as x, different maxima
    base = keras.ops.convert_to_numpy(layer.channel_attention(x))
    assert not np.allclose(base, keras.ops.convert_to_numpy(layer.channel_attention(spiky)))
    assert not np.allclose(base, keras.ops.convert_to_numpy(layer.channel_attention(shifted)))


@pytest.mark.parametrize("reduction", [0, -2, 1.5, True])
def test_bad_reduction_is_a_model_error(reduction):
    with pytest.raises(ModelError, match="reduction"):
        SqueezeExcite(reduction=reduction)
    with pytest.raises(ModelError, match="reduction"):
        CBAM(reduction=reduction)


def test_config_round_trip_keeps_options():
    shape = (BATCH, SIDE, SIDE, CHANNELS)
    se_check = check_layer(SqueezeExcite(reduction=4, name="se"), shape, shape, _se_params(CHANNELS, 4),
                           inputs=_features(6))
    cbam_check = check_layer(CBAM(reduction=2, spatial_kernel_size=3, name="cbam"), shape, shape,
                             _se_params(CHANNELS, 2) + 3 * 3 * 2, inputs=_features(7))
    for se in se_check:
        assert (se.reduction, se.name) == (4, "se")
    for cbam in cbam_check:
        assert (cbam.reduction, cbam.spatial_kernel_size, cbam.name) == (2, 3, "cbam")


def test_layers_are_registered_under_fer_keras():
    assert keras.saving.get_registered_object("fer_keras>SqueezeExcite") is SqueezeExcite
    assert keras.saving.get_registered_object("fer_keras>CBAM") is CBAM


def test_model_with_both_blocks_round_trips_without_custom_objects(tmp_path):
    inputs = keras.Input((SIDE, SIDE, 3))
    x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
    x = SqueezeExcite(reduction=8, name="se")(x)
    x = CBAM(reduction=8, spatial_kernel_size=5, name="cbam")(x)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    images = np.random.default_rng(4).uniform(size=(BATCH, SIDE, SIDE, 3)).astype("float32")

    restored = check_model_round_trip(model, tmp_path, images)

    assert isinstance(restored.get_layer("se"), SqueezeExcite)
    assert isinstance(restored.get_layer("cbam"), CBAM)
    assert restored.get_layer("cbam").spatial_kernel_size == 5


@pytest.mark.parametrize("layer_class", [SqueezeExcite, CBAM])
def test_mixed_precision_computes_in_float16_with_float32_variables(layer_class):
    layer = layer_class(reduction=8, dtype="mixed_float16")
    output = layer(_features(5).astype("float16"))
    assert keras.backend.standardize_dtype(output.dtype) == "float16"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(output)))
