"""The model runners predict and export share: Keras (traced), TFLite on LiteRT, thread count."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fer_keras.inference import runners


@pytest.fixture(scope="module")
def model():
    import keras

    from fer_keras.models import build_model

    keras.utils.set_random_seed(0)
    return build_model("simple_cnn", (48, 48, 1), 7, filters=(4, 8), dense_units=8)


def test_tflite_runs_on_litert_and_matches_keras_without_a_deprecation_warning(model):
    pytest.importorskip("ai_edge_litert")  # a declared dependency on Linux and macOS
    from fer_keras.inference.deploy import tflite_bytes

    assert runners.interpreter_class().__module__.startswith("ai_edge_litert")
    images = np.random.default_rng(0).uniform(0, 255, (3, 48, 48, 1)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = runners.tflite_runner(tflite_bytes(model))
        probabilities = run(images)
    assert not [w for w in caught if "tf.lite.Interpreter is deprecated" in str(w.message)]
    np.testing.assert_allclose(probabilities, runners.keras_runner(model, (48, 48, 1))(images), atol=1e-5)
    assert probabilities.shape == (3, 7) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_tflite_threads_stay_within_the_cap():
    assert 1 <= runners.tflite_threads() <= runners.TFLITE_MAX_THREADS


def test_loading_a_tflite_model_prints_nothing():
    """LiteRT's C++ "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." used to start every predict
    (printed once per process, so checked in a fresh one)."""
    import subprocess
    import sys

    from fer_keras.pretrained import BUNDLED_MODEL

    code = ("import numpy as np; from fer_keras.inference.runners import tflite_runner; "
            f"run = tflite_runner({str(BUNDLED_MODEL.with_suffix('.tflite'))!r}); "
            "print(run(np.zeros((1, 48, 48, 1), np.float32)).shape)")
    env = {k: v for k, v in __import__("os").environ.items() if k != "FER_KERAS_DEBUG"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 7)"
    assert "XNNPACK" not in done.stderr and "INFO" not in done.stderr, done.stderr
