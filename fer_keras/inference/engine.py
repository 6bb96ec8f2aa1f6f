"""Which engine runs a Predictor's model (TFLite or Keras), and the cached TFLite conversion it runs from.

The model runs in one of two engines (``engine``): ``tflite``, the model converted once at load
to float32 TFLite (about 2 s for a custom CNN) and run by XNNPACK, several times faster per
face on a CPU; or ``keras``, the model traced as one ``tf.function``. ``auto`` (the default)
takes ``keras`` when TensorFlow sees a GPU (the model runs there), otherwise ``tflite`` when the
conversion succeeds and its probabilities match Keras's within
:data:`~fer_keras.inference.deploy.TFLITE_FLOAT_ATOL` on a sample input, else ``keras`` with a
warning saying why. A model trained under mixed precision is converted from its float32 copy.
Conversion takes 2 s for a custom CNN and about 20 s for MobileNetV2 on 2 CPU cores, so
``Predictor.load`` keeps the converted model beside the ``.keras`` file
(``.tflite_cache/<name>_<content hash>.tflite``; in memory only where the folder is read-only)
and reuses it while the ``.keras`` file is unchanged. ``convert=False`` (what
``python -m fer_keras.predict`` passes for one image, which never repays a conversion) makes
``auto`` use that cache when it exists and Keras otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from fer_keras.errors import InferenceError
from fer_keras.inference.runners import Runner, keras_runner, tflite_runner

log = logging.getLogger(__name__)

#: Model engines a Predictor can run; ``auto`` picks tflite when it converts and matches Keras.
ENGINES = ("auto", "tflite", "keras")


def gpu_present() -> bool:
    """Whether TensorFlow sees a GPU (then ``auto`` keeps the model on it, in Keras)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def tflite_twin(model_file: Path) -> Path:
    """A ``.tflite`` shipped beside ``model_file`` (the bundled model's), else :func:`tflite_cache_path`.

    A shipped twin is used like a cached conversion: checked against Keras on load.
    """
    shipped = model_file.with_suffix(".tflite")
    return shipped if shipped.is_file() else tflite_cache_path(model_file)


def tflite_cache_path(model_file: Path) -> Path:
    """Where the float32 TFLite conversion of ``model_file`` is kept: named by the file's content hash."""
    digest = hashlib.sha1()
    with open(model_file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return model_file.parent / ".tflite_cache" / f"{model_file.stem}_{digest.hexdigest()[:16]}.tflite"


def converted_tflite(model, cache: Path | None) -> bytes:
    """The model as float32 TFLite bytes: read from ``cache`` when there, else converted and kept there."""
    from fer_keras.inference.deploy import tflite_bytes

    if cache is not None and cache.is_file():
        return cache.read_bytes()
    flatbuffer = tflite_bytes(model)
    if cache is not None:
        try:
            cache.parent.mkdir(exist_ok=True)
            temporary = cache.with_name(f".tmp_{cache.name}")
            temporary.write_bytes(flatbuffer)
            temporary.replace(cache)
        except OSError as error:  # a read-only run directory: keep it in memory
            log.info("TFLite conversion not cached (%s)", error)
    return flatbuffer


def choose_engine(engine: str, model, keras_run: Runner, input_shape: tuple[int, int, int],
                  cache: Path | None = None, convert: bool = True) -> tuple[str, Runner]:
    """(engine name, runner) for ``engine`` in :data:`ENGINES`; see the module docstring.

    ``convert`` false: ``auto`` runs TFLite only from an existing ``cache`` file.
    """
    if engine not in ENGINES:
        raise InferenceError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    uncached = not convert and (cache is None or not cache.is_file())
    if engine == "keras" or (engine == "auto" and (uncached or gpu_present())):
        return "keras", keras_run
    from fer_keras.errors import ExportError
    from fer_keras.inference.deploy import TFLITE_FLOAT_ATOL, max_abs_difference
    from fer_keras.models.float32_copy import float32_model

    try:
        deployable = float32_model(model)  # a mixed-precision model: its float32 copy
        reference = keras_run if deployable is model else keras_runner(deployable, input_shape)
        tflite_run = tflite_runner(converted_tflite(deployable, cache))
        sample = np.random.default_rng(0).uniform(0, 255, (1, *input_shape)).astype(np.float32)
        difference = max_abs_difference(reference, tflite_run, sample)
        if not difference <= TFLITE_FLOAT_ATOL:
            raise ExportError(f"TFLite differs from Keras by {difference:.1e} (tolerance {TFLITE_FLOAT_ATOL:.0e})")
    except Exception as error:  # conversion, interpreter or mismatch: Keras still predicts
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if engine == "tflite":
            raise InferenceError(f"engine tflite unavailable for this model: {reason}") from None
        log.warning("predicting with the Keras engine (TFLite unavailable: %s)", reason)
        return "keras", keras_run
    return "tflite", tflite_run
