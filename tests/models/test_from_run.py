"""fer_keras/models/from_run.py: a trained model's head is kept only for the same class names in the same order."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from fer_keras.models import build_model
from fer_keras.models.from_run import load_trained_model
from fer_keras.errors import ModelError


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    keras.utils.set_random_seed(0)
    build_model("simple_cnn", (48, 48, 1), 3, filters=(4, 4), dense_units=8).save(folder / "model_fold0.keras")
    (folder / "metrics.json").write_text(json.dumps({"classes": ["anger", "happiness", "surprise"]}))
    return folder


def head(model):
    return model.get_layer("predictions").get_weights()[0]


def test_same_names_same_order_keeps_the_trained_head(run):
    model, rebuilt, own = load_trained_model(run, ["anger", "happiness", "surprise"], (48, 48, 1))
    trained = keras.models.load_model(run / "model_fold0.keras")
    assert not rebuilt and own == ["anger", "happiness", "surprise"]
    np.testing.assert_array_equal(head(model), head(trained))


def test_same_count_other_names_or_order_rebuilds_the_head(run):
    for classes in (["surprise", "happiness", "anger"], ["fear", "sadness", "neutral"]):
        _, rebuilt, _ = load_trained_model(run, classes, (48, 48, 1))
        assert rebuilt, classes


def test_head_mode_freezes_all_but_the_head(run):
    model, _, _ = load_trained_model(run, ["anger", "happiness", "surprise"], (48, 48, 1), fine_tune="head")
    assert [layer.name for layer in model.layers if layer.trainable and layer.weights] == ["predictions"]


def test_without_class_names_only_the_count_decides(tmp_path):
    build_model("simple_cnn", (48, 48, 1), 3, filters=(4, 4), dense_units=8).save(tmp_path / "bare.keras")
    _, rebuilt, own = load_trained_model(tmp_path / "bare.keras", ["a", "b", "c"], (48, 48, 1))
    assert not rebuilt and own is None


def test_wrong_input_shape_is_one_line(run):
    with pytest.raises(ModelError, match="expects input"):
        load_trained_model(run, ["anger", "happiness", "surprise"], (64, 64, 1))


def test_a_model_trained_in_bfloat16_starts_a_float32_run_in_float32(tmp_path):
    """A source run trained under mixed_bfloat16 (an AMX machine) fine-tunes in float32 where the run is float32."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        source = build_model("simple_cnn", (48, 48, 1), 7)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    source.save(tmp_path / "model_fold0.keras")
    model, _, _ = load_trained_model(tmp_path / "model_fold0.keras")
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    np.testing.assert_array_equal(model.get_weights()[0], source.get_weights()[0])
