"""Export a trained model for deployment: SavedModel, TFLite float32, TFLite dynamic-range quantised.

``export_model(model, out_dir, formats, images)`` writes each format, then measures its file
size, its single-image latency on this CPU and its largest absolute difference from the Keras
model's probabilities on ``images`` (float32 0..255, the model's input). Formats:

- ``savedmodel``: ``model.export()`` (TensorFlow SavedModel, endpoint ``serve``);
- ``tflite``: ``tf.lite.TFLiteConverter`` from that SavedModel, float32;
- ``tflite_int8dr``: the same with ``Optimize.DEFAULT`` (weights stored as int8, activations
  float: dynamic-range quantisation, about 4× smaller).

:func:`check_tflite_matches` raises when a TFLite file drifts from Keras beyond a tolerance.
Every artifact takes float32 0..255 input of the model's shape and returns softmax
probabilities; ``export_info.json`` beside them records classes and preprocessing for an app.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fer_keras.errors import ExportError
from fer_keras.models.float32_copy import float32_model
from fer_keras.inference.runners import Runner, keras_runner, savedmodel_runner, tflite_runner
from fer_keras.rundir import RunDir

__all__ = ["Artifact", "Runner", "check_formats", "check_tflite_matches", "export_model",
           "export_savedmodel", "keras_runner", "sample_images", "savedmodel_runner", "single_image_latency",
           "tflite_bytes", "tflite_runner", "write_export_info"]

FORMATS = ("savedmodel", "tflite", "tflite_int8dr")
FILE_NAMES = {"savedmodel": "saved_model", "tflite": "model_float32.tflite",
              "tflite_int8dr": "model_dynamic_range_int8.tflite"}
#: Largest absolute probability difference accepted between float32 TFLite and Keras.
TFLITE_FLOAT_ATOL = 1e-4
#: The same for dynamic-range quantised TFLite (int8 weights); measured differences are well below it.
TFLITE_DYNAMIC_RANGE_ATOL = 0.05

@dataclass
class Artifact:
    """One exported file (or folder) and what was measured on it."""

    format: str
    path: str
    size_bytes: int
    latency_ms: float
    max_abs_diff: float


def check_formats(formats: list[str] | str) -> list[str]:
    """Validated list of formats (a comma-separated string is accepted)."""
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ExportError(f"unknown export format {', '.join(unknown) or '(none)'}; choose from {','.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def export_savedmodel(model, folder: Path) -> Path:
    """``model.export(folder)``: written to a temporary name, then renamed."""
    folder = Path(folder)
    temporary = folder.with_name(f".tmp_{folder.name}")
    shutil.rmtree(temporary, ignore_errors=True)
    model.export(str(temporary), format="tf_saved_model", verbose=False)
    shutil.rmtree(folder, ignore_errors=True)
    temporary.rename(folder)
    return folder


def tflite_flatbuffer(saved_model: Path, quantize: bool = False) -> bytes:
    """A SavedModel → TFLite flatbuffer bytes (float32, or dynamic-range quantised with ``quantize``)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and others
        raise ExportError(f"TFLite conversion of {saved_model} failed: {str(error).strip().splitlines()[0]}") from None


def convert_tflite(saved_model: Path, path: Path, quantize: bool = False) -> Path:
    """A SavedModel → a ``.tflite`` file, written to a temporary name and renamed."""
    flatbuffer = tflite_flatbuffer(saved_model, quantize)
    path = Path(path)
    temporary = path.with_name(f".tmp_{path.name}")
    temporary.write_bytes(flatbuffer)
    temporary.replace(path)
    return path


def tflite_bytes(model) -> bytes:
    """A Keras model as float32 TFLite flatbuffer bytes, through a SavedModel in a temporary folder.

    Mixed-precision models are converted from their float32 copy (:func:`float32_model`).
    """
    with tempfile.TemporaryDirectory(prefix="fer_keras_tflite_") as scratch:
        return tflite_flatbuffer(export_savedmodel(float32_model(model), Path(scratch) / "saved_model"))


def runner_for(fmt: str, path: Path) -> Runner:
    return savedmodel_runner(path) if fmt == "savedmodel" else tflite_runner(path)


def max_abs_difference(reference: Runner, other: Runner, images: np.ndarray) -> float:
    """Largest absolute difference between two runners' probabilities on ``images``."""
    return float(np.max(np.abs(reference(images) - other(images))))


def check_tflite_matches(model, path: Path, images: np.ndarray, atol: float = TFLITE_FLOAT_ATOL) -> float:
    """The max abs difference of a TFLite file from ``model`` on ``images``; ExportError above ``atol``."""
    difference = max_abs_difference(keras_runner(model), tflite_runner(path), images)
    if not difference <= atol:
        raise ExportError(f"{path}: outputs differ from Keras by {difference:.2e} (tolerance {atol:.0e})")
    return difference


def single_image_latency(run: Runner, image: np.ndarray, repeats: int = 30) -> float:
    """Median milliseconds for one image (after two warm-up calls)."""
    batch = np.asarray(image, np.float32)[None]
    for _ in range(2):
        run(batch)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(batch)
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def size_bytes(path: Path) -> int:
    """A file's size, or a folder's total."""
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def sample_images(input_shape: tuple[int, int, int], count: int = 8, run_dir: Path | None = None) -> np.ndarray:
    """Float32 0..255 model inputs to compare on: a run's ``samples.npz`` when present, else synthetic faces."""
    if run_dir is not None and RunDir(run_dir).samples_path.is_file():
        with np.load(RunDir(run_dir).samples_path) as saved:
            images = saved["images"][:count]
        if len(images) and tuple(images.shape[1:]) == tuple(input_shape):
            return images.astype(np.float32)
    from fer_keras.data.decode import resize
    from fer_keras.data.readers.synthetic import MAX_SIZE, MIN_SIZE, draw_face
    from fer_keras.labels import CLASSES_7

    height, width, channels = input_shape
    size = int(np.clip(max(height, width), MIN_SIZE, MAX_SIZE))
    color_mode = "grayscale" if channels == 1 else "rgb"
    faces = [resize(draw_face(seed, CLASSES_7[seed % 7], size, color_mode), (height, width)) for seed in range(count)]
    return np.stack(faces).astype(np.float32)


def export_model(model, out_dir: Path, formats: list[str] | str = FORMATS, images: np.ndarray | None = None,
                 atol: dict[str, float] | None = None, repeats: int = 30) -> list[Artifact]:
    """Write each format into ``out_dir``; measure size, latency and difference from Keras.

    Each TFLite file must match Keras on ``images`` within its tolerance (``atol`` per format;
    defaults :data:`TFLITE_FLOAT_ATOL`, :data:`TFLITE_DYNAMIC_RANGE_ATOL`), else ExportError.
    A mixed-precision model is exported (and compared) as its float32 copy (:func:`float32_model`).
    """
    formats = check_formats(formats)
    tolerances = {"savedmodel": TFLITE_FLOAT_ATOL, "tflite": TFLITE_FLOAT_ATOL,
                  "tflite_int8dr": TFLITE_DYNAMIC_RANGE_ATOL, **(atol or {})}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if images is None:
        images = sample_images(tuple(model.input_shape[1:]))
    model = float32_model(model)
    reference = keras_runner(model)
    artifacts = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tmp_export_") as scratch:
        saved_model = out_dir / FILE_NAMES["savedmodel"] if "savedmodel" in formats else Path(scratch) / "saved_model"
        export_savedmodel(model, saved_model)
        for fmt in formats:
            path = saved_model if fmt == "savedmodel" else convert_tflite(
                saved_model, out_dir / FILE_NAMES[fmt], quantize=fmt == "tflite_int8dr")
            run = runner_for(fmt, path)
            difference = max_abs_difference(reference, run, images)
            if not difference <= tolerances[fmt]:
                raise ExportError(f"{fmt}: outputs differ from Keras by {difference:.2e} "
                                  f"(tolerance {tolerances[fmt]:.0e}) on {len(images)} sample images")
            latency = single_image_latency(run, images[0], repeats)
            artifacts.append(Artifact(fmt, str(path), size_bytes(path), latency, difference))
    return artifacts


def write_export_info(out_dir: Path, classes: list[str], preprocessing, artifacts: list[Artifact],
                      keras_latency_ms: float | None = None) -> Path:
    """``export_info.json``: what an app needs (input shape and range, classes, face crop) and the measurements."""
    info = {
        "input": {"shape": list(preprocessing.input_shape), "dtype": "float32", "range": [0, 255],
                  "color_mode": preprocessing.color_mode},
        "classes": list(classes),
        "face_crop": preprocessing.face_crop.model_dump(),
        # the run averaged each face's probabilities with its mirror image's: an app should too
        "test_time_flip": bool(getattr(preprocessing, "flip_average", False)),
        "keras_latency_ms": keras_latency_ms,
        "artifacts": [asdict(a) | {"path": Path(a.path).name} for a in artifacts],
    }
    path = Path(out_dir) / "export_info.json"
    path.write_text(json.dumps(info, indent=1))
    return path
