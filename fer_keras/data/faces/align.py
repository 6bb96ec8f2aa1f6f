"""Eye alignment: rotate and scale a face so its eyes are level at fixed places, then crop with the margin.

The crop has the size :func:`fer_keras.data.faces.crop.crop_face` would give the same box and
margin; in it the eye midpoint sits at the centre column, :data:`EYE_HEIGHT` of the box height
below the box's top edge, and the eyes are :data:`EYE_DISTANCE` of the box width apart. Both
constants are the average MTCNN geometry of upright faces (JAFFE and drawn faces: 0.40 and
0.46), so an upright face is only straightened, hardly moved. Pixels from outside the image
repeat its border.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fer_keras.data.faces.detect import Detection
from fer_keras.errors import DatasetError

#: Eye midpoint height below the box's top edge, as a fraction of the box height.
EYE_HEIGHT = 0.40
#: Distance between the eye centres, as a fraction of the box width.
EYE_DISTANCE = 0.46
#: Limits of the scale change alignment may apply (a profile face's eyes are close together).
SCALE_RANGE = (0.67, 1.5)


def eye_angle(left_eye, right_eye) -> float:
    """Angle of the eye line in degrees (0: level; positive: the image-right eye is lower)."""
    return math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))


def alignment_matrix(detection: Detection, margin: float = 0.2, square: bool = True) -> tuple[np.ndarray, tuple[int, int]]:
    """(2×3 affine matrix, (width, height) of the aligned crop) for ``detection``."""
    if not detection.has_eyes:
        raise DatasetError("face_crop.align needs eye landmarks: set face_crop.detector: mtcnn")
    x, y, w, h = detection.box
    crop_w, crop_h = w * (1.0 + 2.0 * margin), h * (1.0 + 2.0 * margin)
    if square:
        crop_w = crop_h = max(crop_w, crop_h)
    size = (max(1, round(crop_w)), max(1, round(crop_h)))
    (lx, ly), (rx, ry) = detection.left_eye, detection.right_eye
    distance = math.hypot(rx - lx, ry - ly)
    scale = float(np.clip(EYE_DISTANCE * w / distance, *SCALE_RANGE)) if distance > 0 else 1.0
    centre = ((lx + rx) / 2.0, (ly + ry) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, eye_angle(detection.left_eye, detection.right_eye), scale)
    target = (size[0] / 2.0, (size[1] - h) / 2.0 + EYE_HEIGHT * h)
    matrix[0, 2] += target[0] - centre[0]
    matrix[1, 2] += target[1] - centre[1]
    return matrix, size


def align_face(image: np.ndarray, detection: Detection, margin: float = 0.2, square: bool = True) -> np.ndarray:
    """The face of ``detection`` with its eyes level (see the module docstring); channels kept, uint8."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    matrix, size = alignment_matrix(detection, margin, square)
    aligned = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if image.ndim == 3 and aligned.ndim == 2:  # OpenCV drops a single channel axis
        aligned = aligned[..., None]
    return aligned
