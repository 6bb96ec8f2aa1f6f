"""Cutting one found face out of an image: its box widened by a margin, or eye-aligned.

:func:`crop_detection` is the crop training (:mod:`fer_keras.data.faces.table`) and the predictor
share: eye-aligned (:mod:`fer_keras.data.faces.align`) when ``face_crop.align`` is set, else
:func:`crop_face` of the detection's box (``margin``, ``square``).
"""

from __future__ import annotations

import numpy as np

from fer_keras.config import FaceCropConfig
from fer_keras.data.faces.align import align_face
from fer_keras.data.faces.detect import Box, Detection, detector_name
from fer_keras.errors import DatasetError


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


#: ``face_crop.margin: fer2013``: the border that frames a face as FER2013's crops are framed, per
#: detector. Measured on 400 FER2013 training images (upscaled as detection does): Haar's square box
#: covers a median 0.83 of the image's side (1 / 0.83 = 1 + 2 × 0.10), MTCNN's box 0.79 of its width
#: and 0.99 of its height, so its square crop already matches with no border.
FER2013_MARGINS = {"haar": 0.10, "mtcnn": 0.0}


def margin_of(settings: FaceCropConfig) -> float:
    """The border ``settings.margin`` asks for with ``settings.detector`` (resolving ``fer2013``)."""
    if settings.margin == "fer2013":
        return FER2013_MARGINS[detector_name(settings)]
    return float(settings.margin)


def crop_detection(image: np.ndarray, detection: Detection | Box, settings: FaceCropConfig) -> np.ndarray:
    """The face crop training and predict use: eye-aligned when ``settings.align``, else the margin box."""
    if settings.align:
        if not isinstance(detection, Detection):
            raise DatasetError("face_crop.align needs eye landmarks; this face has only a box")
        return align_face(image, detection, margin_of(settings), settings.square)
    box = detection.box if isinstance(detection, Detection) else detection
    return crop_face(image, box, margin_of(settings), settings.square)
