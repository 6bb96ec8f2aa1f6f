"""Face-cropping a dataset table: the largest face of every image kept, the rest excluded, detections cached.

(Faces in images; the FACES *database* reader is :mod:`fer_keras.data.readers.faces`.)

``crop_table(table, config.data.face_crop, cache_dir)`` finds the faces in every image of a
reader's table (:func:`fer_keras.data.faces.detect.find_detections`), keeps the largest one,
crops it (:func:`fer_keras.data.faces.crop.crop_detection`: with a margin, square by default,
eye-aligned if asked) into the ``image`` column and moves images with no face to an exclusion
table (reason ``"no face detected"``). ``counts_table(before, after)`` gives the per-class
before / after / excluded counts that the report prints (like the attention paper's Table 1).
The predictor finds and crops faces with the same two functions, so its crops equal the
training crops of the same image.

Detected boxes (and eyes) are cached in ``cache_dir`` keyed by a hash of the image's pixels, one
file per detector and alignment setting (:func:`~fer_keras.data.faces.detect.detector_settings`),
so a second run detects nothing again; margin and square only change the crop.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fer_keras.config import FaceCropConfig
from fer_keras.data.faces.crop import crop_detection
from fer_keras.data.faces.detect import Detection, detector_settings, find_detections
from fer_keras.errors import ImageError
from fer_keras.data.image_io import read_image
from fer_keras.errors import DatasetError
from fer_keras.data.registry import EXCLUDED_COLUMNS
from fer_keras.labels import canonical_order

NO_FACE = "no face detected"
UNREADABLE = "unreadable image"
#: Show a progress bar from this many images on.
PROGRESS_MIN_IMAGES = 500


def load_row_image(row: pd.Series) -> np.ndarray | None:
    """The row's ``image`` array if it has one, else its ``path`` decoded as predict decodes files
    (:func:`~fer_keras.data.image_io.read_image`: uint8 RGB or grayscale); None when unreadable."""
    image = row.get("image")
    if isinstance(image, np.ndarray):
        return image
    path = row.get("path")
    if not isinstance(path, (str, os.PathLike)):
        return None
    try:
        return read_image(path)
    except ImageError:
        return None


def image_key(image: np.ndarray) -> str:
    """A hash of the pixels (with shape and dtype): the cache key of one image."""
    image = np.ascontiguousarray(image)
    digest = hashlib.sha1(f"{image.shape}|{image.dtype}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


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
