"""MTCNN landmarks, eye alignment, detector-keyed cache, and OpenCV 5 (no Haar cascade) readiness."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.errors import ConfigError
from fer_keras.config import FaceCropConfig, load_config
from fer_keras.data.faces import detect as face_detect
from fer_keras.data.faces import table as faces
from fer_keras.data.faces.align import EYE_DISTANCE, EYE_HEIGHT, alignment_matrix, align_face, eye_angle
from fer_keras.data.faces.detect import Detection, detect_mtcnn
from fer_keras.errors import DatasetError
from fer_keras.data.readers.synthetic import draw_face
from tests.inference.fakes import place

CENTRE = (320.0, 240.0)


def picture(angle: float = 0.0, seed: int = 4) -> np.ndarray:
    """A 640x480 photo of one drawn face, turned ``angle`` degrees (counter-clockwise) about CENTRE."""
    upright = place(draw_face(seed, "neutral", 160, "rgb"), at=(240, 160))
    if not angle:
        return upright
    matrix = cv2.getRotationMatrix2D(CENTRE, angle, 1.0)
    return cv2.warpAffine(upright, matrix, (640, 480), borderMode=cv2.BORDER_REPLICATE)


def turned(point, angle: float) -> np.ndarray:
    """Where ``point`` of the upright picture lands in the turned one."""
    return cv2.getRotationMatrix2D(CENTRE, angle, 1.0) @ np.array([*point, 1.0])


@pytest.fixture(scope="module")
def upright_eyes():
    (face,) = detect_mtcnn(picture())
    return face.left_eye, face.right_eye


@pytest.mark.parametrize("angle", [0, 15, -30])
def test_mtcnn_finds_the_eyes_of_a_drawn_face_where_they_are(upright_eyes, angle):
    found = detect_mtcnn(picture(angle))
    assert len(found) == 1 and found[0].confidence >= 0.9
    face = found[0]
    spacing = math.dist(*upright_eyes)
    for seen, known in ((face.left_eye, upright_eyes[0]), (face.right_eye, upright_eyes[1])):
        assert math.dist(seen, turned(known, angle)) < 0.15 * spacing
    x, y, w, h = face.box
    assert all(x <= ex <= x + w and y <= ey <= y + h for ex, ey in (face.left_eye, face.right_eye))


@pytest.mark.parametrize("min_size", [40, 80])
def test_mtcnn_finds_a_face_larger_than_a_raised_min_size(upright_eyes, min_size):
    """min_size above MTCNN's own 20 px still finds the 160 px face, with the same eyes (mtcnn 1.0's pyramid
    alone goes below its 12 px window there and reports no face)."""
    found = detect_mtcnn(picture(), min_size=min_size)
    assert len(found) == 1 and min(found[0].box[2:]) >= min_size
    spacing = math.dist(*upright_eyes)
    assert math.dist(found[0].left_eye, upright_eyes[0]) < 0.1 * spacing
    assert math.dist(found[0].right_eye, upright_eyes[1]) < 0.1 * spacing


def test_mtcnn_min_size_leaves_out_smaller_faces():
    assert detect_mtcnn(picture(), min_size=300) == []


def test_compiled_mtcnn_finds_what_the_eager_one_finds():
    """The networks run as traced graphs (concrete functions, one trace for any size) and give mtcnn's own boxes and eyes."""
    import tensorflow as tf
    from mtcnn import MTCNN

    compiled = face_detect.mtcnn_detector()
    assert all(isinstance(stage._model, tf.types.experimental.ConcreteFunction) for stage in compiled.stages)
    eager = MTCNN(device="CPU:0")
    for image in (picture(), picture(15)[40:400, 100:560], cv2.resize(picture(-30), (320, 240))):
        ours, theirs = compiled.detect_faces(image), eager.detect_faces(image)
        assert len(ours) == len(theirs) >= 1
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a["box"], b["box"], atol=1)
            for eye in ("left_eye", "right_eye"):
                np.testing.assert_allclose(a["keypoints"][eye], b["keypoints"][eye], atol=1)


@pytest.mark.parametrize("shape", [(200, 200, 3), (48, 48, 1), (13, 13, 3), (480, 640, 3)])
def test_compiled_mtcnn_finds_no_face_in_blank_images(shape):
    """No proposal at all (an empty batch for the later networks) is no face, not an error."""
    assert detect_mtcnn(np.zeros(shape, np.uint8)) == [] and detect_mtcnn(np.zeros(shape, np.uint8), min_size=60) == []


def test_the_alignment_matrix_puts_the_eyes_level_at_fixed_places():
    detection = Detection((100, 80, 120, 140), 1.0, (130.0, 150.0), (190.0, 120.0))  # eye line at -26.6 degrees
    matrix, (width, height) = alignment_matrix(detection, margin=0.2, square=True)
    left, right = (matrix @ np.array([*eye, 1.0]) for eye in (detection.left_eye, detection.right_eye))
    assert abs(eye_angle(left, right)) < 1e-6
    assert width == height == round(140 * 1.4)
    assert math.dist(left, right) == pytest.approx(EYE_DISTANCE * 120)
    assert (left + right)[0] / 2 == pytest.approx(width / 2)
    assert (left + right)[1] / 2 == pytest.approx((height - 140) / 2 + EYE_HEIGHT * 140)


@pytest.mark.parametrize("angle", [15, -15, 30, -30])
def test_alignment_levels_a_turned_face_within_two_degrees(angle):
    image = picture(angle)
    (face,) = detect_mtcnn(image, relative=False)  # as find_detections does when aligning
    assert abs(eye_angle(face.left_eye, face.right_eye)) > abs(angle) - 5  # the face really is turned
    aligned = align_face(image, face, margin=0.4)
    again = detect_mtcnn(aligned, relative=False)
    assert again, "the aligned face is still a face"
    assert abs(eye_angle(again[0].left_eye, again[0].right_eye)) <= 2.0


def test_align_needs_mtcnn_in_the_config():
    with pytest.raises(ConfigError, match="align needs eye landmarks"):
        load_config("quickstart.yaml", ["data.face_crop.detector=haar", "data.face_crop.align=true"])
    config = load_config("quickstart.yaml", ["data.face_crop.detector=mtcnn", "data.face_crop.align=true"])
    assert config.data.face_crop.align


def test_cache_keeps_one_file_per_detector_and_alignment_setting(tmp_path):
    settings = [FaceCropConfig(detector="haar"), FaceCropConfig(detector="mtcnn"),
                FaceCropConfig(detector="mtcnn", align=True), FaceCropConfig(detector="mtcnn", confidence=0.8),
                FaceCropConfig(detector="haar", min_size=30)]
    paths = {faces.BoxCache(tmp_path, s).path for s in settings}
    assert len(paths) == len(settings)
    cache = faces.BoxCache(tmp_path, settings[2])
    cache.put("a", Detection((1, 2, 30, 40), 0.99, (10.5, 12.0), (20.0, 12.5)))
    cache.put("b", None)
    cache.save()
    reread = faces.BoxCache(tmp_path, settings[2])
    assert reread.get("a") == (True, Detection((1, 2, 30, 40), 1.0, (10.5, 12.0), (20.0, 12.5)))
    assert reread.get("b") == (True, None) and reread.get("c") == (False, None)


def test_mtcnn_cache_key_is_renewed_for_the_relative_search_and_above_20_px():
    """Boxes found before the relative search and its first pass (or, above 20 px, found nothing) are
    not reused; aligned runs search at full resolution as before, so their caches stay valid."""
    assert face_detect.detector_settings(FaceCropConfig(detector="mtcnn")) == \
        "mtcnn|0.9|relative 8, first pass 4 at 0.6|20|align False"
    assert face_detect.detector_settings(FaceCropConfig(detector="mtcnn", align=True)) == "mtcnn|0.9|20|align True"
    assert "shrunk to 20" in face_detect.detector_settings(FaceCropConfig(detector="mtcnn", min_size=40))


@pytest.fixture
def opencv5(monkeypatch):
    """OpenCV as the 5.x wheels ship it: no cascade files and no CascadeClassifier."""
    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)
    monkeypatch.setattr(cv2.data, "haarcascades", "", raising=False)
    monkeypatch.setattr(face_detect._local, "cascade", None, raising=False)


def table_of(*images) -> pd.DataFrame:
    return pd.DataFrame({"path": [None] * len(images), "image": list(images), "label": ["neutral"] * len(images),
                         "subject": ["s"] * len(images), "dataset": ["x"] * len(images)})


def test_without_the_cascade_haar_says_what_to_do_and_mtcnn_still_crops(opencv5):
    with pytest.raises(DatasetError, match="detector: mtcnn, or install opencv-python-headless<5"):
        faces.crop_table(table_of(picture()), FaceCropConfig(enabled=True, detector="haar", cache=False))
    assert face_detect.detector_name(FaceCropConfig(enabled=True)) == "mtcnn"  # auto: what this OpenCV can run
    kept, excluded = faces.crop_table(table_of(picture(), np.full((200, 200, 3), 90, np.uint8)),
                                      FaceCropConfig(enabled=True, detector="mtcnn", align=True, cache=False))
    assert len(kept) == 1 and list(excluded["reason"]) == [faces.NO_FACE]
    assert kept["image"][0].shape[0] == kept["image"][0].shape[1]


def test_predict_aligns_exactly_as_training_did(tmp_path):
    from fer_keras.data.decode import load_images
    from fer_keras.inference.predictor import Predictor, Preprocessing
    from tests.inference.fakes import make_run_dir

    settings = FaceCropConfig(enabled=True, detector="mtcnn", align=True, cache=False)
    image = picture(20)
    kept, _ = faces.crop_table(table_of(image), settings)
    training_input = load_images(kept, (48, 48), "grayscale")[0]
    run = Predictor.load(make_run_dir(tmp_path / "run"), engine="keras")
    predictor = Predictor(run.model, run.classes, Preprocessing((48, 48), "grayscale", settings), engine="keras")
    (face,) = predictor.find_detections(image)
    np.testing.assert_array_equal(predictor.prepare(image, face), training_input)


def test_auto_detector_is_haar_where_opencv_ships_it_and_mtcnn_where_not(monkeypatch):
    """auto is chosen when used, not when the config loads: a config means the same on every machine."""
    assert FaceCropConfig().detector == "auto" and load_config("fer2013_bundled.yaml").data.face_crop.detector == "auto"
    assert face_detect.detector_name(FaceCropConfig()) == ("haar" if face_detect.haar_available() else "mtcnn")
    assert face_detect.detector_name(FaceCropConfig(align=True)) == "mtcnn"  # align needs the eyes
    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)
    monkeypatch.setattr(cv2.data, "haarcascades", "", raising=False)
    assert face_detect.detector_name(FaceCropConfig()) == "mtcnn"
    assert face_detect.with_detector_chosen(FaceCropConfig()).detector == "mtcnn"
    assert face_detect.detector_name(FaceCropConfig(detector="haar")) == "haar"  # asked for by name: kept
