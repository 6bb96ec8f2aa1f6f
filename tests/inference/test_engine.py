"""Engine choice: TFLite when it converts and matches Keras, Keras on a GPU or on failure; the conversion cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from fer_keras.data.readers.synthetic import draw_face
from fer_keras.errors import ExportError, InferenceError
from fer_keras.inference import engine as engine_module
from fer_keras.inference.predictor import Predictor
from fer_keras.labels import CLASSES_7


def test_tflite_engine_is_chosen_and_matches_keras_for_several_faces(run_dir, predictor):
    assert predictor.engine == "tflite"
    keras_only = Predictor.load(run_dir, engine="keras")
    assert keras_only.engine == "keras"
    faces = np.stack([draw_face(seed, "surprise", 48, "grayscale") for seed in range(3)]).astype(np.float32)
    tflite_probabilities = predictor.probabilities(faces)
    assert tflite_probabilities.shape == (3, len(CLASSES_7))
    np.testing.assert_allclose(tflite_probabilities, keras_only.probabilities(faces), atol=1e-5)
    assert not np.allclose(tflite_probabilities[0], tflite_probabilities[1])  # one invoke per face, not one reused


def test_auto_engine_falls_back_to_keras_when_tflite_fails(run_dir, tmp_path, monkeypatch, caplog):
    from fer_keras.inference import deploy

    def broken(model):
        raise ExportError("converter says no")

    monkeypatch.setattr(deploy, "tflite_bytes", broken)
    run_dir = Path(shutil.copytree(run_dir, tmp_path / "run", ignore=shutil.ignore_patterns(".tflite_cache")))
    fallback = Predictor.load(run_dir)
    assert fallback.engine == "keras"
    assert "TFLite unavailable: converter says no" in caplog.text
    with pytest.raises(InferenceError, match="engine tflite unavailable for this model: converter says no"):
        Predictor.load(run_dir, engine="tflite")
    with pytest.raises(InferenceError, match="unknown engine 'onnx'"):
        Predictor.load(run_dir, engine="onnx")


def test_auto_engine_keeps_keras_when_a_gpu_is_visible(run_dir, monkeypatch):
    from fer_keras.inference import deploy

    monkeypatch.setattr(engine_module, "gpu_present", lambda: True)
    monkeypatch.setattr(deploy, "tflite_bytes", lambda model: pytest.fail("converted although a GPU is present"))
    assert Predictor.load(run_dir).engine == "keras"


def test_tflite_conversion_is_cached_beside_the_model_and_renewed_when_it_changes(run_dir, tmp_path, monkeypatch):
    from fer_keras.inference import deploy
    from fer_keras.inference.engine import tflite_cache_path

    run = Path(shutil.copytree(run_dir, tmp_path / "run", ignore=shutil.ignore_patterns(".tflite_cache")))
    model_file = run / "model_fold0.keras"
    first = Predictor.load(run)
    cache = tflite_cache_path(model_file)
    assert first.engine == "tflite" and cache.is_file() and cache.parent == run / ".tflite_cache"
    monkeypatch.setattr(deploy, "tflite_bytes", lambda model: pytest.fail("converted again although cached"))
    again = Predictor.load(run)
    faces = np.stack([draw_face(seed, "anger", 48, "grayscale") for seed in range(2)]).astype(np.float32)
    assert again.engine == "tflite"
    np.testing.assert_allclose(again.probabilities(faces), first.probabilities(faces), atol=1e-7)
    import keras

    model = keras.models.load_model(model_file, compile=False)
    model.layers[-1].bias.assign(model.layers[-1].bias + 1.0)  # a retrained model: new file, new cache entry
    model.save(model_file)
    assert tflite_cache_path(model_file) != cache


def test_read_only_run_directory_converts_in_memory(run_dir, tmp_path, monkeypatch):
    from fer_keras.inference.engine import tflite_cache_path

    run = Path(shutil.copytree(run_dir, tmp_path / "run", ignore=shutil.ignore_patterns(".tflite_cache")))

    def refuse(self, data):
        raise PermissionError(f"read-only: {self}")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    predictor = Predictor.load(run)
    assert predictor.engine == "tflite" and not tflite_cache_path(run / "model_fold0.keras").exists()
