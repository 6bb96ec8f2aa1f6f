"""Finding faces in one image: OpenCV's Haar cascade or MTCNN (with eye landmarks), largest first.

:func:`find_detections` is the one entry training crops (:mod:`fer_keras.data.faces.table`) and the
predictor share: ``face_crop.detector`` picks ``haar`` (:func:`detect_faces`) or ``mtcnn``
(:func:`detect_mtcnn`, which also finds the eyes that :mod:`fer_keras.data.faces.align` levels). Both
give :class:`Detection` objects; :func:`detector_settings` is everything that changes what is
found, as text (the detection cache's key).

Haar detection uses ``haarcascade_frontalface_default.xml`` from ``cv2.data.haarcascades``
(shipped by opencv-python-headless 4.x; OpenCV 5 wheels ship neither the cascades nor
``cv2.CascadeClassifier``: choosing ``haar`` there stops with one line naming the fix). Small images are
upscaled so their short side is at least ``DETECT_MIN_SIDE`` pixels before detection (the
cascade misses faces that fill a 48×48 image); ``min_size`` is in the original image's pixels.
Larger images (camera frames, whole photos) are searched only for faces of at least
:func:`smallest_face` = ``max(min_size, short side // MIN_FACE_DIVISOR)`` pixels, on a copy
shrunk so that size maps to the cascade's ``CASCADE_WINDOW``-pixel window (never below
``DETECT_MIN_SIDE``): 2-3× faster on 320-1280 px frames, finding the same faces (boxes within
a few pixels). Images with a short side under ``8 × min_size`` (160 px by default), such as
CK+48's and FER2013's 48 px faces, are detected exactly as before.

MTCNN comes from the ``mtcnn`` package (its P/R/O-net weights ship in the wheel); it runs
offline and on any OpenCV version: it needs only TensorFlow. Its ``min_size`` is the smallest
face in the image's pixels; on photos it too seeks only faces of :func:`smallest_face` and more,
on a copy shrunk so that size maps to 20 px, after a first pass that seeks only faces of a
quarter of the short side and more (see :func:`detect_mtcnn`);
``confidence`` its final-stage (O-net) threshold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_keras.config import FaceCropConfig
from fer_keras.errors import DatasetError

Box = tuple[int, int, int, int]
Point = tuple[float, float]

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Images whose short side is smaller are upscaled to it before detection.
DETECT_MIN_SIDE = 144
#: The frontal-face cascade's window (pixels): the smallest face it finds at an image's own scale.
CASCADE_WINDOW = 24
#: Faces smaller than an image's short side // this are not sought (a face filling it is ~1/1).
MIN_FACE_DIVISOR = 8
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
#: The largest ``min_face_size`` mtcnn 1.0's pyramid handles; larger ``min_size`` shrinks the image instead.
MTCNN_MIN_FACE = 20
#: MTCNN's first pass on photos seeks only faces of at least short side // this, with pyramid levels
#: this scale factor apart (mtcnn's own: 0.709); the full search runs only when it finds none.
MTCNN_FIRST_DIVISOR = 4
MTCNN_FIRST_SCALE_FACTOR = 0.6
MTCNN_SCALE_FACTOR = 0.709

#: One loaded detector per thread (``cascade``, ``mtcnn``).
_local = threading.local()


@dataclass(frozen=True)
class Detection:
    """One face: its box ``(x, y, w, h)``, the detector's confidence and, when known, the eye centres.

    ``left_eye`` is the eye on the image's left (the person's right eye), as MTCNN names it.
    """

    box: Box
    confidence: float = 1.0
    left_eye: Point | None = None
    right_eye: Point | None = None

    @property
    def has_eyes(self) -> bool:
        return self.left_eye is not None and self.right_eye is not None


def detector_name(settings: FaceCropConfig) -> str:
    """The detector ``settings`` ask for on this machine: ``auto`` is mtcnn with ``align`` (it needs the eyes),
    else haar where this OpenCV ships its cascade, else mtcnn."""
    if settings.detector != "auto":
        return settings.detector
    return "mtcnn" if settings.align or not haar_available() else "haar"


def with_detector_chosen(settings: FaceCropConfig) -> FaceCropConfig:
    """``settings`` with ``auto`` replaced by :func:`detector_name` (what a run records)."""
    return settings.model_copy(update={"detector": detector_name(settings)})


def find_detections(image: np.ndarray, settings: FaceCropConfig) -> list[Detection]:
    """Faces in ``image`` by ``settings.detector``, largest first (Haar detections carry no eyes)."""
    if detector_name(settings) == "mtcnn":
        return detect_mtcnn(image, settings.min_size, settings.confidence, relative=not settings.align,
                            first_pass=settings.first_pass)
    return [Detection(tuple(int(v) for v in box)) for box in detect_faces(image, min_size=settings.min_size)]


def detector_settings(settings: FaceCropConfig) -> str:
    """Everything that changes what is detected or cached for one image, as text (the cache's key)."""
    if detector_name(settings) == "mtcnn":
        first = f", first pass {MTCNN_FIRST_DIVISOR} at {MTCNN_FIRST_SCALE_FACTOR}" if settings.first_pass else ""
        detector = f"mtcnn|{settings.confidence}" + ("" if settings.align else f"|relative {MIN_FACE_DIVISOR}{first}")
        if settings.min_size > MTCNN_MIN_FACE:  # found on a shrunk copy (before: nothing found, never reuse)
            detector += f"|shrunk to {MTCNN_MIN_FACE}"
    else:
        detector = (f"{CASCADE_FILE}|{DETECT_MIN_SIDE}|{SCALE_FACTOR}|{MIN_NEIGHBORS}"
                    f"|relative {MIN_FACE_DIVISOR} window {CASCADE_WINDOW}")
    return f"{detector}|{settings.min_size}|align {settings.align}"


# --- Haar cascade ----------------------------------------------------------------------------

def cascade_path() -> Path:
    """The frontal-face Haar cascade file shipped with opencv-python-headless 4.x."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = Path(folder) / CASCADE_FILE
    if not folder or not path.is_file() or not hasattr(cv2, "CascadeClassifier"):
        raise DatasetError(
            f"face_crop.detector: haar needs OpenCV's {CASCADE_FILE}, which this OpenCV {cv2.__version__} does not "
            "ship; set data.face_crop.detector: mtcnn, or install opencv-python-headless<5"
        )
    return path


def haar_available() -> bool:
    """Whether this OpenCV ships the Haar cascade (4.x wheels do, 5.x wheels do not)."""
    try:
        cascade_path()
    except DatasetError:
        return False
    return True


def _cascade() -> cv2.CascadeClassifier:
    """One loaded cascade per thread."""
    if getattr(_local, "cascade", None) is None:
        path = cascade_path()  # first: it says what to do where OpenCV has no cascades
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise DatasetError(f"OpenCV could not load the face cascade {cascade_path()}; reinstall opencv-python-headless<5")
        _local.cascade = cascade
    return _local.cascade


def to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """A 2-D uint8 grayscale copy of an HxW, HxWx1, HxWx3 (RGB) or HxWx4 image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[-1] == 1:
        return image[..., 0]
    if image.ndim == 3 and image.shape[-1] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.ndim == 3 and image.shape[-1] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    if image.ndim == 2:
        return image
    raise DatasetError(f"face detection expects an HxW or HxWxC image with C in 1, 3, 4; got shape {image.shape}")


def smallest_face(shape: tuple[int, ...], min_size: int = 20, divisor: int | None = None) -> int:
    """The smallest face side sought in an image of ``shape`` (original pixels).

    ``max(min_size, short side // divisor)`` (default :data:`MIN_FACE_DIVISOR`), but just ``min_size``
    for images small enough to be upscaled (their faces fill them, and their results stay as they were).
    """
    short = min(int(shape[0]), int(shape[1]))
    divisor = MIN_FACE_DIVISOR if divisor is None else divisor
    return int(min_size) if short < DETECT_MIN_SIDE else max(int(min_size), short // divisor)


def detection_scale(shape: tuple[int, ...], min_size: int = 20) -> float:
    """The factor the image is resized by before the cascade runs (>1 small images, <1 large frames)."""
    short = min(int(shape[0]), int(shape[1]))
    if short < DETECT_MIN_SIDE:
        return DETECT_MIN_SIDE / short
    return max(DETECT_MIN_SIDE / short, min(1.0, CASCADE_WINDOW / smallest_face(shape, min_size)))


def detect_faces(image: np.ndarray, min_size: int = 20) -> list[Box]:
    """Frontal faces as ``(x, y, w, h)`` in the image's pixels, largest first (none: empty list).

    Faces smaller than :func:`smallest_face` are not sought; see the module docstring.
    """
    gray = to_gray_uint8(image)
    height, width = gray.shape
    scale = detection_scale(gray.shape, min_size)
    if scale != 1.0:
        interpolation = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=interpolation)
    smallest = max(1, round(smallest_face((height, width), min_size) * scale))
    found = _cascade().detectMultiScale(
        gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(smallest, smallest)
    )
    boxes = []
    for x, y, w, h in np.asarray(found, dtype=float).reshape(-1, 4) / scale:
        x0, y0 = max(0, round(x)), max(0, round(y))
        x1, y1 = min(width, round(x + w)), min(height, round(y + h))
        if min(x1 - x0, y1 - y0) >= min_size:
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)


# --- MTCNN -----------------------------------------------------------------------------------

def mtcnn_detector():
    """One MTCNN per thread, on the CPU, its networks compiled; one-line error when the package is missing.

    mtcnn 1.0 calls its three Keras networks eagerly, once per pyramid level and stage; each is
    wrapped here in one ``tf.function`` for any image size (``compiled_network``): the same boxes,
    4-6x faster per image on a CPU (reports/benchmarks.md section 6).
    """
    if getattr(_local, "mtcnn", None) is None:
        try:
            from mtcnn import MTCNN
        except ImportError:
            raise DatasetError("face_crop.detector: mtcnn needs the mtcnn package: pip install mtcnn") from None
        detector = MTCNN(device="CPU:0")
        for stage in detector.stages:
            if getattr(stage, "_model", None) is not None:  # mtcnn 1.x keeps each stage's network there
                stage._model = compiled_network(stage._model)
        _local.mtcnn = detector
    return _local.mtcnn


def compiled_network(network):
    """``network`` as one traced graph over float32 NHWC batches of any size.

    The concrete function is returned rather than the ``tf.function``: calling it skips the
    argument matching a ``tf.function`` repeats on every call (about 0.5 ms of 1-2 ms per pyramid
    level on 2 cores; reports/benchmarks.md section 6).
    """
    import tensorflow as tf

    function = tf.function(network, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    return function.get_concrete_function()


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """An HxWx3 uint8 RGB copy of a grayscale, HxWx1, RGB or RGBA image (what MTCNN takes)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise DatasetError(f"face detection expects an HxW or HxWxC image with C in 1, 3, 4; got shape {image.shape}")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def detect_mtcnn(image: np.ndarray, min_size: int = 20, confidence: float = 0.9,
                 relative: bool = True, first_pass: bool = True) -> list[Detection]:
    """Faces of at least ``min_size`` pixels found with at least ``confidence``, largest first.

    With ``relative`` (as for the cascade), faces smaller than :func:`smallest_face` (``short side //
    MIN_FACE_DIVISOR`` on photos and frames) are not sought, and (``first_pass``) a first, cheaper pass seeks only
    faces of at least ``short side // MTCNN_FIRST_DIVISOR`` on a coarser pyramid
    (:data:`MTCNN_FIRST_SCALE_FACTOR`): when it finds one, its faces are the answer (a photo of one
    person is searched once, at 3 pyramid levels instead of 7: 14.8 -> 7.8 ms on 320 px photos, the
    same faces found on KDEF, JAFFE and CK+48, boxes within IoU 0.94 median; smaller faces beside a
    large one are then not reported), else the full search runs. Without ``relative``
    (face alignment, which needs the eyes found at full resolution: on a shrunk copy they come out a
    few degrees off) only faces under ``min_size`` are skipped.
    """
    rgb = to_rgb_uint8(image)
    if not relative:
        return _search_mtcnn(rgb, int(min_size), min_size, confidence)
    full = smallest_face(rgb.shape, min_size)
    first = smallest_face(rgb.shape, min_size, MTCNN_FIRST_DIVISOR)
    if first_pass and first != full:
        found = _search_mtcnn(rgb, first, min_size, confidence, MTCNN_FIRST_SCALE_FACTOR)
        if found:
            return found
    return _search_mtcnn(rgb, full, min_size, confidence)


def _search_mtcnn(rgb: np.ndarray, smallest: int, min_size: int, confidence: float,
                  scale_factor: float = MTCNN_SCALE_FACTOR) -> list[Detection]:
    """MTCNN's faces of at least ``smallest`` pixels in ``rgb``, largest first.

    A smallest face above :data:`MTCNN_MIN_FACE` is sought on a copy shrunk so that it maps to
    MTCNN_MIN_FACE (boxes and eyes mapped back): mtcnn 1.0 builds its pyramid for its own smallest
    window, and a larger ``min_face_size`` sends its last levels below P-net's 12 px. A 320 px
    photo's full search thus runs at about 160 px, its first pass at 80 px.
    """
    height, width = rgb.shape[:2]
    scale = min(1.0, MTCNN_MIN_FACE / max(1, smallest))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        scale_x, scale_y = size[0] / width, size[1] / height
    else:
        scale_x = scale_y = 1.0
    if min(rgb.shape[:2]) < 12:  # MTCNN's smallest window: nothing to find
        return []
    found = mtcnn_detector().detect_faces(rgb, min_face_size=max(12, min(MTCNN_MIN_FACE, int(min_size))),
                                          threshold_onet=float(confidence), scale_factor=scale_factor)
    detections = []
    for face in found or []:
        x, y, w, h = face["box"]
        x, y, w, h = (int(round(v)) for v in (x / scale_x, y / scale_y, w / scale_x, h / scale_y))
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if min(x1 - x0, y1 - y0) < min_size or float(face["confidence"]) < confidence:
            continue
        points = face.get("keypoints") or {}
        eyes = [(float(points[name][0]) / scale_x, float(points[name][1]) / scale_y) if name in points else None
                for name in ("left_eye", "right_eye")]
        detections.append(Detection((x0, y0, x1 - x0, y1 - y0), float(face["confidence"]), *eyes))
    return sorted(detections, key=lambda d: d.box[2] * d.box[3], reverse=True)
