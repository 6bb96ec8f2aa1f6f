"""Ways to run a model on float32 0..255 images: each a ``Runner`` (N, H, W, C) → (N, classes) float64.

- :func:`keras_runner`: the Keras model as one ``tf.function`` traced once for any batch size
  (eager calls are ~10× slower);
- :func:`savedmodel_runner`: a reloaded SavedModel's ``serve`` endpoint;
- :func:`tflite_runner`: a TFLite flatbuffer (file or bytes) in LiteRT's interpreter when
  installed, else ``tf.lite.Interpreter``, one image per invoke as an app runs it. On a CPU
  this is the fastest: XNNPACK runs a 48×48 custom CNN in about a sixth of the traced
  Keras call's time (benchmarks/latency.py).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fer_keras.quiet import quiet_stderr

Runner = Callable[[np.ndarray], np.ndarray]
#: Most threads a TFLite interpreter uses (XNNPACK gains little beyond this for one small image).
TFLITE_MAX_THREADS = 4


def keras_runner(model, input_shape: tuple[int, ...] | None = None) -> Runner:
    """The model traced once as a ``tf.function`` over ``(None, *input_shape)`` float32 inputs."""
    import tensorflow as tf

    shape = tuple(input_shape) if input_shape is not None else tuple(model.input_shape[1:])
    traced = tf.function(lambda x: model(x, training=False),
                         input_signature=[tf.TensorSpec((None, *shape), tf.float32)])

    def run(images: np.ndarray) -> np.ndarray:
        return np.asarray(traced(np.asarray(images, np.float32)), np.float64)

    run.traced = traced  # tests check it is traced once
    return run


def savedmodel_runner(folder: Path) -> Runner:
    """Probabilities from a reloaded SavedModel (``tf.saved_model.load(...).serve``)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(folder))
    return lambda images: np.asarray(loaded.serve(tf.constant(images, tf.float32)), np.float64)


def interpreter_class():
    """LiteRT's interpreter when installed, else ``tf.lite.Interpreter`` (deprecated, still works)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


def tflite_threads() -> int:
    """Interpreter threads: the CPUs this process may use, at most :data:`TFLITE_MAX_THREADS`."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(TFLITE_MAX_THREADS, available))


def tflite_runner(source: Path | bytes, threads: int | None = None) -> Runner:
    """Probabilities from a ``.tflite`` file or flatbuffer bytes, one image per invoke."""
    arguments = {"model_content": source} if isinstance(source, bytes) else {"model_path": str(source)}
    with warnings.catch_warnings(), quiet_stderr():  # no deprecation notice, no "Created ... XNNPACK delegate" line
        warnings.simplefilter("ignore")
        interpreter = interpreter_class()(**arguments, num_threads=threads or tflite_threads())
        source_detail = interpreter.get_input_details()[0]
        target = interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(source_detail["index"], [1, *source_detail["shape"][1:]])
        interpreter.allocate_tensors()

    def run(images: np.ndarray) -> np.ndarray:
        outputs = []
        for image in np.asarray(images, np.float32):
            interpreter.set_tensor(source_detail["index"], image[None])
            interpreter.invoke()
            outputs.append(interpreter.get_tensor(target["index"])[0].copy())
        return np.asarray(outputs, np.float64).reshape(len(outputs), -1)

    return run
