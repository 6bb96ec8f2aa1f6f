"""Face detection and cropping (OpenCV's Haar cascade or MTCNN), with an exclusion table and a disk cache.

(Faces in images; the FACES *database* reader is :mod:`fer_keras.data.faces_dataset`.)

``data.face_crop.detector`` picks the detector: ``haar`` (this module's :func:`detect_faces`) or
``mtcnn`` (:func:`fer_keras.data.landmarks.detect_mtcnn`, which also finds the eyes);
``face_crop.align`` levels the eyes before cropping (:mod:`fer_keras.data.align`).
:func:`find_detections` and :func:`crop_detection` are the two steps training and predict share.

``crop_table(table, config.data.face_crop, cache_dir)`` detects the face in every image of a
reader's table, keeps the largest one, crops it (with a margin, square by default) into the
``image`` column and moves images with no face to an exclusion table (reason
``"no face detected"``). ``counts_table(before, after)`` gives the per-class before / after /
excluded counts that the report prints (like the attention paper's Table 1).

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
CK+48's and FER2013's 48 px faces, are detected exactly as before. The predictor calls this
same function, so its crops equal the training crops of the same image.
Detected boxes (and eyes) are cached in ``cache_dir`` keyed by a hash of the image's pixels, one
file per detector and alignment setting, so a second run detects nothing again; margin and
square only change the crop.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fer_keras.config import FaceCropConfig
from fer_keras.data.landmarks import Box, Detection, detect_mtcnn
from fer_keras.data.registry import EXCLUDED_COLUMNS, DatasetError
from fer_keras.labels import canonical_order

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Images whose short side is smaller are upscaled to it before detection.
DETECT_MIN_SIDE = 144
#: The frontal-face cascade's window (pixels): the smallest face it finds at an image's own scale.
CASCADE_WINDOW = 24
#: Faces smaller than an image's short side // this are not sought (a face filling it is ~1/1).
MIN_FACE_DIVISOR = 8
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
NO_FACE = "no face detected"
UNREADABLE = "unreadable image"
#: Show a progress bar from this many images on.
PROGRESS_MIN_IMAGES = 500

_local = threading.local()


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


def smallest_face(shape: tuple[int, ...], min_size: int = 20) -> int:
    """The smallest face side sought in an image of ``shape`` (original pixels).

    ``max(min_size, short side // MIN_FACE_DIVISOR)``, but just ``min_size`` for images small
    enough to be upscaled (their faces fill them, and their results stay as they were).
    """
    short = min(int(shape[0]), int(shape[1]))
    return int(min_size) if short < DETECT_MIN_SIDE else max(int(min_size), short // MIN_FACE_DIVISOR)


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


def crop_face(image: np.ndarray, box: Box, margin: float = 0.2, square: bool = True) -> np.ndarray:
    """Crop ``box`` widened by ``margin`` × its size on every side, made square if asked.

    The crop stays inside the image: it is shifted inward at the edges and, when larger than
    the image, shrunk (a square crop stays square). Channels are kept as they are.
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise DatasetError(f"face box {box} has no area; expected (x, y, w, h) with w, h > 0")
    centre_x, centre_y = x + w / 2.0, y + h / 2.0
    crop_w, crop_h = w * (1.0 + 2.0 * margin), h * (1.0 + 2.0 * margin)
    if square:
        crop_w = crop_h = min(max(crop_w, crop_h), width, height)
    crop_w, crop_h = max(1, min(round(crop_w), width)), max(1, min(round(crop_h), height))
    left = int(np.clip(round(centre_x - crop_w / 2.0), 0, width - crop_w))
    top = int(np.clip(round(centre_y - crop_h / 2.0), 0, height - crop_h))
    crop = image[top:top + crop_h, left:left + crop_w]
    return np.ascontiguousarray(crop, dtype=np.uint8) if crop.dtype != np.uint8 else crop.copy()


def load_row_image(row: pd.Series) -> np.ndarray | None:
    """The row's ``image`` array if it has one, else its ``path`` read with OpenCV (RGB, HxWxC)."""
    image = row.get("image")
    if isinstance(image, np.ndarray):
        return image
    path = row.get("path")
    if not isinstance(path, (str, os.PathLike)):
        return None
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    if image.ndim == 2:
        return image[..., None]
    if image.shape[-1] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def image_key(image: np.ndarray) -> str:
    """A hash of the pixels (with shape and dtype): the cache key of one image."""
    image = np.ascontiguousarray(image)
    digest = hashlib.sha1(f"{image.shape}|{image.dtype}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def find_detections(image: np.ndarray, settings: FaceCropConfig) -> list[Detection]:
    """Faces in ``image`` by ``settings.detector``, largest first (Haar detections carry no eyes)."""
    if settings.detector == "mtcnn":
        return detect_mtcnn(image, settings.min_size, settings.confidence)
    return [Detection(tuple(int(v) for v in box)) for box in detect_faces(image, min_size=settings.min_size)]


def crop_detection(image: np.ndarray, detection: Detection | Box, settings: FaceCropConfig) -> np.ndarray:
    """The face crop training and predict use: eye-aligned when ``settings.align``, else the margin box."""
    if settings.align:
        from fer_keras.data.align import align_face

        if not isinstance(detection, Detection):
            raise DatasetError("face_crop.align needs eye landmarks; this face has only a box")
        return align_face(image, detection, settings.margin, settings.square)
    box = detection.box if isinstance(detection, Detection) else detection
    return crop_face(image, box, settings.margin, settings.square)


def detector_settings(settings: FaceCropConfig) -> str:
    """Everything that changes what is detected or cached for one image, as text (the cache's key)."""
    if settings.detector == "mtcnn":
        detector = f"mtcnn|{settings.confidence}"
    else:
        detector = (f"{CASCADE_FILE}|{DETECT_MIN_SIDE}|{SCALE_FACTOR}|{MIN_NEIGHBORS}"
                    f"|relative {MIN_FACE_DIVISOR} window {CASCADE_WINDOW}")
    return f"{detector}|{settings.min_size}|align {settings.align}"


class BoxCache:
    """Detections on disk, one JSON file per detection setting: image hash → [x, y, w, h(, eyes)] or null."""

    def __init__(self, cache_dir: Path, settings: FaceCropConfig):
        name = f"face_boxes_{hashlib.sha1(detector_settings(settings).encode()).hexdigest()[:12]}.json"
        self.path = Path(cache_dir) / name
        self.boxes: dict[str, list[int] | None] = {}
        self.changed = False
        if self.path.is_file():
            try:
                self.boxes = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.boxes = {}  # a damaged cache is rebuilt, never trusted

    def get(self, key: str) -> tuple[bool, Detection | None]:
        """(found in the cache, detection or None)."""
        if key not in self.boxes:
            return False, None
        saved = self.boxes[key]
        if saved is None:
            return True, None
        box = tuple(int(v) for v in saved[:4])
        eyes = saved[4:8]
        if len(eyes) == 4:
            return True, Detection(box, 1.0, (eyes[0], eyes[1]), (eyes[2], eyes[3]))
        return True, Detection(box)

    def put(self, key: str, detection: Detection | None) -> None:
        if detection is None:
            self.boxes[key] = None
        else:
            eyes = list(detection.left_eye) + list(detection.right_eye) if detection.has_eyes else []
            self.boxes[key] = list(map(int, detection.box)) + [float(v) for v in eyes]
        self.changed = True

    def save(self) -> None:
        """Write atomically (temporary file, then rename)."""
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.boxes))
        os.replace(temporary, self.path)
        self.changed = False


def largest_face(image: np.ndarray, settings: FaceCropConfig, cache: BoxCache | None) -> Detection | None:
    """The largest face (from the cache when it knows this image)."""
    key = image_key(image) if cache is not None else None
    if cache is not None:
        known, detection = cache.get(key)
        if known:
            return detection
    found = find_detections(image, settings)
    detection = found[0] if found else None
    if cache is not None:
        cache.put(key, detection)
    return detection


def crop_table(
    table: pd.DataFrame,
    config: FaceCropConfig,
    cache_dir: Path | None = None,
    load_image: Callable[[pd.Series], np.ndarray | None] = load_row_image,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crop the largest face of every row: (kept table with ``image`` and ``face_box``, excluded table).

    With ``config.enabled`` false the table comes back unchanged. Excluded rows carry the
    table's other columns (not the image) and a ``reason``: no face detected, or unreadable image.
    """
    empty = pd.DataFrame(columns=list(EXCLUDED_COLUMNS))
    if not config.enabled:
        return table, empty
    cache = BoxCache(cache_dir, config) if config.cache and cache_dir is not None else None
    crops, boxes, kept_rows, excluded_rows, reasons = [], [], [], [], []
    rows = tqdm(table.iterrows(), total=len(table), desc="face crop", unit="img",
                disable=len(table) < PROGRESS_MIN_IMAGES)
    try:
        for position, (_, row) in enumerate(rows):
            image = load_image(row)
            detection = largest_face(image, config, cache) if image is not None else None
            if detection is None:
                excluded_rows.append(position)
                reasons.append(UNREADABLE if image is None else NO_FACE)
                continue
            kept_rows.append(position)
            boxes.append(tuple(int(v) for v in detection.box))
            crops.append(crop_detection(image, detection, config))
    finally:
        if cache is not None:
            cache.save()
    if len(table) and not kept_rows:
        raise DatasetError(
            f"face crop: no face found in any of the {len(table)} images; lower data.face_crop.min_size "
            "or set data.face_crop.enabled: false"
        )
    kept = table.iloc[kept_rows].reset_index(drop=True)
    kept["image"] = _object_column(crops)
    kept["face_box"] = _object_column(boxes)
    excluded = table.iloc[excluded_rows].drop(columns=["image"], errors="ignore").reset_index(drop=True)
    excluded["reason"] = reasons
    for column in EXCLUDED_COLUMNS:
        if column not in excluded.columns:
            excluded[column] = None
    leading = list(EXCLUDED_COLUMNS)
    excluded = excluded[leading + [c for c in excluded.columns if c not in leading]]
    return kept, excluded


def _object_column(values: list) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (arrays of equal shape are not stacked)."""
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return column


def counts_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per-class images before and after cropping, and how many were excluded (plus a total row)."""
    if "label" not in before.columns or "label" not in after.columns:
        raise DatasetError("counts_table needs a label column in both tables")
    first = before["label"].value_counts()
    second = after["label"].value_counts()
    rows = [
        {"class": name, "before": int(first.get(name, 0)), "after": int(second.get(name, 0))}
        for name in canonical_order(set(first.index) | set(second.index))
    ]
    rows.append({"class": "total", "before": len(before), "after": len(after)})
    counts = pd.DataFrame(rows, columns=["class", "before", "after"])
    counts["excluded"] = counts["before"] - counts["after"]
    return counts
