"""fer_keras/models/heads.py: the dense and pooled heads, ending in the float32 softmax named predictions."""

import keras
import numpy as np
import pytest

from fer_keras.models.heads import HEAD_NAME, dense_head, pooled_head, softmax_output


def features(shape=(6, 6, 8)):
    inputs = keras.Input(shape)
    return inputs, inputs


def test_dense_head_names_its_layers_and_ends_in_the_softmax():
    inputs, x = features()
    model = keras.Model(inputs, dense_head(x, [16, 8], dropout=0.3, num_classes=5))
    names = [layer.name for layer in model.layers]
    assert names[1:] == ["flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", HEAD_NAME]
    assert model.get_layer("fc2_dropout").rate == pytest.approx(0.3)
    assert model.output_shape == (None, 5)


def test_pooled_head_adds_dropout_and_dense_only_when_asked():
    inputs, x = features()
    plain = keras.Model(inputs, pooled_head(x, 3))
    assert [layer.name for layer in plain.layers][1:] == ["avg_pool", HEAD_NAME]
    inputs, x = features()
    full = keras.Model(inputs, pooled_head(x, 3, dropout=0.2, dense_units=4))
    assert [layer.name for layer in full.layers][1:] == ["avg_pool", "head_dropout", "head_dense", HEAD_NAME]


def test_the_softmax_stays_float32_under_mixed_precision_and_zeros_start_uniform():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        inputs = keras.Input((4,))
        model = keras.Model(inputs, softmax_output(keras.layers.Dense(4)(inputs), 4, kernel_initializer="zeros"))
    finally:
        keras.config.set_dtype_policy(previous)
    layer = model.get_layer(HEAD_NAME)
    assert layer.dtype_policy.compute_dtype == "float32"
    out = model.predict(np.random.default_rng(0).normal(size=(3, 4)).astype("float32"), verbose=0)
    assert out.dtype == np.float32 and np.allclose(out, 0.25, atol=1e-6)
