"""Tests for fer_keras.data.faces.crop: the margin crop of one box."""

from __future__ import annotations

import numpy as np
import pytest

from fer_keras.data.faces import crop as face_crop
from fer_keras.errors import DatasetError


def coordinate_image(height: int = 100, width: int = 100) -> np.ndarray:
    """RGB image whose pixel (y, x) holds (y, x, 7): a crop tells where it came from."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([ys, xs, np.full_like(ys, 7)], axis=-1).astype(np.uint8)


def crop_origin_and_size(crop: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a crop of ``coordinate_image``."""
    return int(crop[0, 0, 0]), int(crop[0, 0, 1]), crop.shape[0], crop.shape[1]


# --- crop_face -------------------------------------------------------------------------------

def test_crop_margin_on_every_side_square():
    crop = face_crop.crop_face(coordinate_image(), (40, 40, 20, 20), margin=0.5, square=True)
    assert crop_origin_and_size(crop) == (30, 30, 40, 40)
    assert crop.dtype == np.uint8 and crop.shape[-1] == 3


def test_crop_square_uses_longer_side_centred():
    crop = face_crop.crop_face(coordinate_image(), (40, 40, 20, 10), margin=0.0, square=True)
    assert crop_origin_and_size(crop) == (35, 40, 20, 20)


def test_crop_not_square_keeps_box_shape():
    crop = face_crop.crop_face(coordinate_image(), (40, 40, 20, 10), margin=0.5, square=False)
    assert crop_origin_and_size(crop) == (35, 30, 20, 40)


def test_crop_shifted_inside_at_the_edge():
    crop = face_crop.crop_face(coordinate_image(), (0, 85, 20, 15), margin=0.5, square=True)
    top, left, height, width = crop_origin_and_size(crop)
    assert (height, width) == (40, 40)  # the longer side, 20 × (1 + 2 × 0.5)
    assert left == 0 and top + height == 100


def test_crop_larger_than_image_shrinks_to_a_square_inside():
    crop = face_crop.crop_face(coordinate_image(60, 48), (2, 5, 44, 50), margin=0.2, square=True)
    assert crop.shape[:2] == (48, 48)
    gray = face_crop.crop_face(np.zeros((48, 48, 1), np.uint8), (3, 3, 42, 42), margin=0.2, square=True)
    assert gray.shape == (48, 48, 1)


def test_crop_rejects_empty_box():
    with pytest.raises(DatasetError, match="no area"):
        face_crop.crop_face(coordinate_image(), (5, 5, 0, 10))


def test_fer2013_margin_frames_the_face_as_fer2013_crops_for_each_detector():
    """Haar's box covers ~0.83 of a FER2013 crop's side, MTCNN's square ~0.99: the crops match FER2013's framing."""
    from fer_keras.config import FaceCropConfig
    from fer_keras.data.faces.crop import FER2013_MARGINS, crop_detection, margin_of

    haar = FaceCropConfig(detector="haar", margin="fer2013")
    mtcnn = FaceCropConfig(detector="mtcnn", margin="fer2013")
    assert (margin_of(haar), margin_of(mtcnn)) == (FER2013_MARGINS["haar"], FER2013_MARGINS["mtcnn"]) == (0.10, 0.0)
    assert margin_of(FaceCropConfig(detector="haar", margin=0.3)) == 0.3
    image = np.zeros((400, 400, 3), np.uint8)
    assert crop_detection(image, (100, 100, 100, 100), haar).shape[:2] == (120, 120)
    assert crop_detection(image, (100, 100, 100, 100), mtcnn).shape[:2] == (100, 100)
    with pytest.raises(ValueError):
        FaceCropConfig(margin="wide")


def test_the_bundled_model_crops_faces_as_fer2013_frames_them():
    from fer_keras.config import load_config
    from fer_keras.pretrained import BUNDLED_DIR

    assert load_config(BUNDLED_DIR / "config.yaml").data.face_crop.margin == "fer2013"
    assert load_config("fer2013_bundled.yaml").data.face_crop.margin == "fer2013"
