"""A trained model with its run's preprocessing: image in, one probability vector per face out.

``Predictor.load(path)`` takes a run directory (``config.yaml`` + ``model_fold*.keras``), a
``.keras`` file (its folder's ``config.yaml`` and ``metrics.json`` are used when present), or
None / ``"pretrained"``: the bundled FER2013 model (:mod:`fer_keras.pretrained`).
Preprocessing is the run's own, so predictions match evaluation: faces are found with
:func:`fer_keras.data.faces.detect.find_detections`, the function training crops with (the run's
``face_crop`` detector, ``min_size`` and ``confidence``; Haar searches larger frames for faces
from ``max(min_size, short side // 8)`` up on a shrunk copy, which keeps camera frames fast),
cropped with :func:`~fer_keras.data.faces.crop.crop_detection` (its ``margin``, ``square`` and
``align``), converted with
:func:`fer_keras.data.decode.to_color_mode` and resized with
:func:`~fer_keras.data.decode.resize` to the run's ``image_size``; the model gets float32 0..255.

Whether faces are detected follows the run's ``data.face_crop.predict`` (``auto``: detect when
training cropped faces, otherwise the whole image is the face, which is what the model saw in
training; ``detect`` for datasets of face crops such as FER2013, whose configs say so); ``detect=True``/``False``
(``--detect`` / ``--no-detect``) overrides it. A bare ``.keras`` file without its run detects. Class names come from the run's
``metrics.json`` (``classes``), else from a predictions table's ``prob_<class>`` columns.

The model runs in the engine :func:`fer_keras.inference.engine.choose_engine` picks
(``engine``: ``auto``, ``tflite`` or ``keras``; ``convert=False`` runs TFLite only from an
existing cached conversion); see :mod:`fer_keras.inference.engine`. Rows for output files are
made in :mod:`fer_keras.inference.rows`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from fer_keras.config import ExperimentConfig, FaceCropConfig
from fer_keras.data.decode import resize, to_color_mode
from fer_keras.data.faces.crop import crop_detection
from fer_keras.data.faces.detect import Box, Detection, find_detections
from fer_keras.errors import InferenceError
from fer_keras.inference.engine import choose_engine, gpu_present, tflite_twin
from fer_keras.models.float32_copy import float32_model
from fer_keras.inference.runners import keras_runner
from fer_keras.rundir import RunDir
from fer_keras.trained import load_keras_file, model_file_in, resolve_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preprocessing:
    """How a run turned an image into model input."""

    image_size: tuple[int, int]
    color_mode: str
    face_crop: FaceCropConfig = field(default_factory=FaceCropConfig)
    detect: bool = True
    flip_average: bool = False  # the run's model.test_time_flip

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Preprocessing:
        data = config.data
        return cls(tuple(data.image_size), data.color_mode, data.face_crop, detects_faces(config),
                   config.model.test_time_flip)

    @classmethod
    def from_input_shape(cls, shape: tuple[int, int, int]) -> Preprocessing:
        """For a bare ``.keras`` file: size and colour mode from the model, default face crop."""
        height, width, channels = shape
        if height is None or width is None:
            raise InferenceError(f"the model takes any image size {shape}; give its run directory (config.yaml)")
        return cls((int(height), int(width)), "grayscale" if channels == 1 else "rgb")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, 1 if self.color_mode == "grayscale" else 3)


def detects_faces(config: ExperimentConfig) -> bool:
    """Whether predict detects faces for a run (``data.face_crop.predict``, see the module docstring)."""
    rule = config.data.face_crop.predict
    if rule != "auto":
        return rule == "detect"
    return config.data.face_crop.enabled


@dataclass
class Face:
    """One face: its box in the image's pixels and the model's class probabilities."""

    box: Box
    probabilities: np.ndarray


def find_model_file(path: str | Path) -> tuple[Path, Path | None]:
    """(the .keras file, the run directory or None) for a run directory or a .keras path."""
    path = Path(path)
    if not path.exists():
        raise InferenceError(f"--model {path} does not exist; give a run directory or a .keras file")
    if path.is_dir():
        if not RunDir(path).config_path.is_file() or not RunDir(path).model_files():
            raise InferenceError(
                f"--model {path} is not a finished run directory (needs config.yaml and model_fold*.keras)"
            )
        return model_file_in(path), path
    if path.suffix != ".keras":
        raise InferenceError(f"--model {path} is neither a run directory nor a .keras file")
    return path, path.parent if RunDir(path.parent).config_path.is_file() else None


def load_keras_model(path: Path):
    """The model in ``path`` (fer_keras's custom layers registered); errors as one line."""
    return load_keras_file(path, InferenceError)


class Predictor:
    """Detect faces, crop and preprocess them as in training, and predict class probabilities."""

    def __init__(self, model, classes: list[str], preprocessing: Preprocessing, detect: bool = True,
                 engine: str = "auto", tflite_cache: Path | None = None, convert: bool = True):
        outputs = int(model.output_shape[-1])
        if len(classes) != outputs:
            raise InferenceError(f"the model has {outputs} outputs but {len(classes)} class names: {classes}")
        shape = tuple(model.input_shape[1:])
        if None not in shape and shape != preprocessing.input_shape:
            raise InferenceError(
                f"the run's config says input {preprocessing.input_shape} but the model takes {shape}"
            )
        self.model = model
        self.classes = list(classes)
        self.preprocessing = preprocessing
        self.detect = detect
        # a model trained under mixed precision predicts through its float32 copy on a CPU (as its TFLite
        # twin does): float16/bfloat16 compute is slow or emulated there, and the two engines then agree
        runnable = model if gpu_present() else float32_model(model)
        self.keras_runner = keras_runner(runnable, preprocessing.input_shape)
        self.engine, self.runner = choose_engine(engine, runnable, self.keras_runner, preprocessing.input_shape,
                                                 tflite_cache, convert)

    @classmethod
    def load(cls, path: str | Path | None, detect: bool | None = None, engine: str = "auto",
             convert: bool = True, face_crop: dict | None = None) -> Predictor:
        """From a run directory, a ``.keras`` file, or None / ``"pretrained"`` (the bundled FER2013 model).

        ``detect`` None follows the run (see the module docstring); ``face_crop`` replaces settings of the
        run's ``data.face_crop`` (``{"detector": "haar"}``, ``{"first_pass": False}``), checked as a config is.
        """
        model_file, run_dir = find_model_file(resolve_model(path))
        model = load_keras_model(model_file)
        if run_dir is not None:
            from fer_keras.config import load_run_config

            preprocessing = Preprocessing.from_config(load_run_config(RunDir(run_dir).config_path))
        else:
            preprocessing = Preprocessing.from_input_shape(tuple(model.input_shape[1:]))
        if face_crop:
            try:
                changed = FaceCropConfig.model_validate({**preprocessing.face_crop.model_dump(), **face_crop})
            except ValueError as error:  # pydantic's ValidationError: one line naming the setting
                raise InferenceError(f"face_crop {face_crop}: {' '.join(str(error).split())}") from None
            preprocessing = replace(preprocessing, face_crop=changed)
        classes = RunDir(model_file.parent).classes()
        if classes is None:
            classes = [f"class_{i}" for i in range(int(model.output_shape[-1]))]
            log.warning("no metrics.json or predictions table beside %s: classes are named %s..%s",
                        model_file, classes[0], classes[-1])
        return cls(model, classes, preprocessing, detect=preprocessing.detect if detect is None else detect, engine=engine,
                   tflite_cache=tflite_twin(model_file), convert=convert)

    def find_detections(self, image: np.ndarray) -> list[Detection]:
        """Faces (box, and eyes from mtcnn), largest first; the whole image when detection is off."""
        if not self.detect:
            return [Detection((0, 0, int(image.shape[1]), int(image.shape[0])))]
        return find_detections(image, self.preprocessing.face_crop)

    def find_faces(self, image: np.ndarray) -> list[Box]:
        """Face boxes, largest first; the whole image when detection is off."""
        return [detection.box for detection in self.find_detections(image)]

    def prepare(self, image: np.ndarray, face: Detection | Box) -> np.ndarray:
        """The model input for one face: crop or align (when detecting), colour mode, resize; uint8 HxWxC."""
        crop = image
        if self.detect:
            crop = crop_detection(image, face, self.preprocessing.face_crop)
        return resize(to_color_mode(np.asarray(crop, np.uint8), self.preprocessing.color_mode),
                      self.preprocessing.image_size)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, H, W, C) inputs 0..255 → (N, classes) float64 probabilities."""
        inputs = np.asarray(inputs, np.float32)
        if len(inputs) == 0:
            return np.zeros((0, len(self.classes)))
        if self.preprocessing.flip_average:  # as evaluation did: mean with the mirrored faces
            return (self.runner(inputs) + self.runner(np.ascontiguousarray(inputs[:, :, ::-1]))) / 2.0
        return self.runner(inputs)

    def predict(self, image: np.ndarray) -> list[Face]:
        """Every face in ``image`` (RGB or grayscale uint8) with its probabilities, largest first.

        >>> import numpy as np
        >>> from fer_keras.inference.predictor import Predictor
        >>> predictor = Predictor.load("pretrained", detect=False, engine="keras")  # the whole image is the face
        >>> (face,) = predictor.predict(np.full((48, 48), 128, np.uint8))
        >>> face.box, len(face.probabilities), round(float(face.probabilities.sum()), 3)
        ((0, 0, 48, 48), 7, 1.0)
        """
        found = self.find_detections(image)
        if not found:
            return []
        probabilities = self.probabilities(np.stack([self.prepare(image, face) for face in found]))
        return [Face(tuple(int(v) for v in face.box), p) for face, p in zip(found, probabilities)]
