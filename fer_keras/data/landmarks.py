"""Faces with landmarks from MTCNN (the ``mtcnn`` package; its P/R/O-net weights ship in the wheel).

:func:`detect_mtcnn` returns :class:`Detection` objects (box, confidence and the two eye
centres) largest first, so :mod:`fer_keras.data.align` can level the eyes. Runs offline and on
any OpenCV version: it needs only TensorFlow. ``min_size`` is MTCNN's ``min_face_size`` in the
image's pixels; ``confidence`` its final-stage (O-net) threshold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from fer_keras.data.registry import DatasetError

Box = tuple[int, int, int, int]
Point = tuple[float, float]

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


def mtcnn_detector():
    """One MTCNN per thread, on the CPU; one-line error when the package is missing."""
    if getattr(_local, "mtcnn", None) is None:
        try:
            from mtcnn import MTCNN
        except ImportError:
            raise DatasetError("face_crop.detector: mtcnn needs the mtcnn package: pip install mtcnn") from None
        _local.mtcnn = MTCNN(device="CPU:0")
    return _local.mtcnn


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


def detect_mtcnn(image: np.ndarray, min_size: int = 20, confidence: float = 0.9) -> list[Detection]:
    """Faces of at least ``min_size`` pixels found with at least ``confidence``, largest first."""
    rgb = to_rgb_uint8(image)
    height, width = rgb.shape[:2]
    if min(height, width) < 12:  # MTCNN's smallest window: nothing to find
        return []
    found = mtcnn_detector().detect_faces(rgb, min_face_size=max(12, int(min_size)), threshold_onet=float(confidence))
    detections = []
    for face in found or []:
        x, y, w, h = (int(round(v)) for v in face["box"])
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if min(x1 - x0, y1 - y0) < min_size or float(face["confidence"]) < confidence:
            continue
        points = face.get("keypoints") or {}
        eyes = [tuple(float(v) for v in points[name]) if name in points else None for name in ("left_eye", "right_eye")]
        detections.append(Detection((x0, y0, x1 - x0, y1 - y0), float(face["confidence"]), *eyes))
    return sorted(detections, key=lambda d: d.box[2] * d.box[3], reverse=True)
