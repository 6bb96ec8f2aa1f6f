"""Export: SavedModel and TFLite (float32, dynamic-range int8) agree with Keras; the export CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_keras.errors import ExportError
from fer_keras.inference.deploy import FILE_NAMES, FORMATS, TFLITE_DYNAMIC_RANGE_ATOL, check_formats, check_tflite_matches, export_model, keras_runner, sample_images, savedmodel_runner
from fer_keras.models import build_model
from tests.inference.fakes import make_run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run_dir(tmp_path_factory.mktemp("run"), seed=3)


@pytest.fixture(scope="module")
def model(run_dir):
    from fer_keras.inference.predictor import load_keras_model

    return load_keras_model(run_dir / "model_fold0.keras")


@pytest.fixture(scope="module")
def images():
    return sample_images((48, 48, 1), 8)


@pytest.fixture(scope="module")
def exported(model, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    return out, {a.format: a for a in export_model(model, out, FORMATS, images, repeats=3)}


def test_sample_images_are_synthetic_faces_of_the_input_shape(images, run_dir):
    assert images.shape == (8, 48, 48, 1) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 255 and images.std() > 10
    assert not np.array_equal(images[0], images[1])
    saved = np.full((3, 48, 48, 1), 7, np.uint8)
    np.savez_compressed(run_dir / "samples.npz", images=saved, keys=np.array(["a", "b", "c"]))
    np.testing.assert_array_equal(sample_images((48, 48, 1), 8, run_dir), saved.astype(np.float32))
    (run_dir / "samples.npz").unlink()


def test_every_format_is_written_with_size_and_latency(exported):
    out, artifacts = exported
    assert set(artifacts) == set(FORMATS)
    for fmt, artifact in artifacts.items():
        assert artifact.path == str(out / FILE_NAMES[fmt])
        assert artifact.size_bytes > 1000 and artifact.latency_ms > 0
    assert artifacts["tflite_int8dr"].size_bytes < artifacts["tflite"].size_bytes / 3  # int8 weights
    assert not list(out.glob(".tmp*"))


def test_tflite_float32_matches_keras(exported, model, images):
    out, artifacts = exported
    assert artifacts["tflite"].max_abs_diff <= 1e-4
    assert check_tflite_matches(model, out / FILE_NAMES["tflite"], images, atol=1e-4) <= 1e-4


def test_dynamic_range_tflite_is_close_but_not_identical(exported, model, images):
    out, artifacts = exported
    difference = artifacts["tflite_int8dr"].max_abs_diff
    assert 0 < difference <= TFLITE_DYNAMIC_RANGE_ATOL
    with pytest.raises(ExportError, match="differ from Keras"):
        check_tflite_matches(model, out / FILE_NAMES["tflite_int8dr"], images, atol=difference / 10)


def test_savedmodel_reloads_with_the_same_outputs(exported, model, images):
    import tensorflow as tf

    out, artifacts = exported
    loaded = tf.saved_model.load(str(out / FILE_NAMES["savedmodel"]))
    np.testing.assert_allclose(loaded.serve(tf.constant(images)).numpy(), keras_runner(model)(images), atol=1e-6)
    np.testing.assert_allclose(savedmodel_runner(out / FILE_NAMES["savedmodel"])(images).sum(axis=1), 1.0, atol=1e-5)
    assert artifacts["savedmodel"].max_abs_diff <= 1e-6


def test_unknown_format_is_refused():
    assert check_formats("tflite, savedmodel,tflite") == ["tflite", "savedmodel"]
    with pytest.raises(ExportError, match="unknown export format onnx"):
        check_formats("tflite,onnx")


def test_export_cli_prints_sizes_latency_and_writes_info(run_dir, tmp_path, capsys):
    from fer_keras.cli.export import main

    assert main(["--model", str(run_dir), "--out", str(tmp_path / "out"), "--formats", "tflite", "--samples", "4"]) == 0
    printed = capsys.readouterr().out
    assert "tflite" in printed and "MB" in printed and "ms" in printed and "keras" in printed
    info = json.loads((tmp_path / "out" / "export_info.json").read_text())
    assert info["classes"][3] == "happiness" and info["input"]["shape"] == [48, 48, 1]
    assert info["artifacts"][0]["max_abs_diff"] <= 1e-4
    assert (tmp_path / "out" / FILE_NAMES["tflite"]).is_file()


def test_export_cli_errors_are_one_line(tmp_path, capsys):
    from fer_keras.cli.export import main

    assert main(["--model", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --model")
    assert main(["--model", str(tmp_path), "--out", str(tmp_path / "o"), "--formats", "coreml"]) == 2
    assert "unknown export format coreml" in capsys.readouterr().err


@pytest.mark.parametrize("policy, half", [("mixed_float16", 1e-2), ("mixed_bfloat16", 3e-2)])
def test_mixed_precision_model_exports_and_predicts_through_its_float32_copy(tmp_path, policy, half):
    """Both engines on a CPU predict with the float32 copy (TFLite to 1e-4 of it); the 16-bit model
    itself differs from it only by rounding (``half``: float16 ~1e-3, bfloat16 ~1e-2 relative)."""
    import keras

    from fer_keras.models.float32_copy import all_layers, float32_model
    from fer_keras.inference.predictor import Predictor, Preprocessing

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        mixed = build_model("simple_cnn", (48, 48, 1), 7)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    copy = float32_model(mixed)
    assert copy is not mixed and float32_model(copy) is copy
    assert {layer.dtype_policy.name for layer in all_layers(mixed)} >= {policy}
    assert {layer.dtype_policy.name for layer in all_layers(copy)} == {"float32"}
    images = sample_images((48, 48, 1), count=4)
    mixed_probabilities = keras_runner(mixed)(images)
    copy_probabilities = keras_runner(copy)(images)
    np.testing.assert_allclose(copy_probabilities, mixed_probabilities, atol=half)
    artifacts = export_model(mixed, tmp_path, ["tflite"], images, repeats=2)
    assert artifacts[0].max_abs_diff <= 1e-4
    for engine, tolerance in (("tflite", 1e-4), ("keras", 1e-6)):
        predictor = Predictor(mixed, [f"c{i}" for i in range(7)], Preprocessing((48, 48), "grayscale"), engine=engine)
        assert predictor.engine == engine
        np.testing.assert_allclose(predictor.probabilities(images), copy_probabilities, atol=tolerance)