"""Shared checks for Keras layers and models: output shape, parameter count, config and .keras round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np


class LayerCheck(NamedTuple):
    """What :func:`check_layer` rebuilt: ``clone`` from the config, ``loaded`` from a saved model."""

    clone: keras.layers.Layer
    loaded: keras.layers.Layer


def outputs(model_or_layer, inputs, training: bool = False) -> np.ndarray:
    """``model_or_layer(inputs)`` as a NumPy array (inference mode unless ``training``)."""
    return keras.ops.convert_to_numpy(model_or_layer(inputs, training=training))


def plain(config):
    """``config`` with tuples as lists, as it reads back from a saved file."""
    if isinstance(config, dict):
        return {key: plain(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [plain(value) for value in config]
    return config


def check_config_round_trip(obj):
    """Rebuild a layer or model from its config, by its registered name; assert the same class and config.

    Layers go through ``keras.layers.serialize`` / ``deserialize`` (no custom objects), so an
    unregistered layer fails here. Returns the clone (fresh weights).
    """
    config = obj.get_config()
    if isinstance(obj, keras.Model):
        clone = type(obj).from_config(config)
    else:
        clone = keras.layers.deserialize(keras.layers.serialize(obj))
    assert type(clone) is type(obj)
    assert plain(clone.get_config()) == plain(config)
    return clone


def check_model_round_trip(model: keras.Model, directory, inputs, rtol: float = 0.0) -> keras.Model:
    """Save ``model`` as ``<directory>/<name>.keras``, load it in safe mode without custom objects.

    Asserts the same class, layer names, parameter count, config and weights, and the same
    inference outputs on ``inputs`` (bit for bit unless ``rtol``). Returns the loaded model.
    """
    expected = outputs(model, inputs)
    path = Path(directory) / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.count_params() == model.count_params()
    assert plain(loaded.get_config()) == plain(model.get_config())
    assert [w.path for w in loaded.weights] == [w.path for w in model.weights]
    for saved, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored), keras.ops.convert_to_numpy(saved))
    got = outputs(loaded, inputs)
    assert got.shape == expected.shape
    if rtol:
        np.testing.assert_allclose(got, expected, rtol=rtol)
    else:
        np.testing.assert_array_equal(got, expected)
    return loaded


def check_layer(layer: keras.layers.Layer, input_shape, expected_output_shape, expected_params: int | None = None,
                inputs=None) -> LayerCheck:
    """Call ``layer`` on a batch of ``input_shape`` (batch first) and check it end to end.

    Asserts the output shape (called and from ``compute_output_shape``), the parameter count
    when given, a config round trip (:func:`check_config_round_trip`) and a saved-model round
    trip of the layer alone (:func:`check_model_round_trip`). ``inputs`` defaults to uniform
    0..255 float32 values of ``input_shape``.
    """
    input_shape, expected_output_shape = tuple(input_shape), tuple(expected_output_shape)
    if inputs is None:
        inputs = np.random.default_rng(0).uniform(0, 255, input_shape).astype("float32")
    assert outputs(layer, inputs).shape == expected_output_shape
    symbolic = tuple(layer.compute_output_shape((None, *input_shape[1:])))
    assert symbolic == (None, *expected_output_shape[1:])
    if expected_params is not None:
        assert layer.count_params() == expected_params
    clone = check_config_round_trip(layer)
    model = keras.Sequential([keras.Input(input_shape[1:]), layer], name=f"{layer.name}_alone")
    with tempfile.TemporaryDirectory() as directory:
        loaded = check_model_round_trip(model, directory, inputs).layers[-1]
    assert type(loaded) is type(layer)
    assert plain(loaded.get_config()) == plain(layer.get_config())
    return LayerCheck(clone, loaded)
