"""Tests for fer_keras.data.faces.detect: the Haar search size relative to the frame (fake cascade);
the real Haar cascade on blank images and synthetic faces; the missing cascade."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_keras.config import FaceCropConfig
from fer_keras.data.faces import detect as face_detect
from fer_keras.errors import DatasetError
from tests.markers import requires_haar


# --- detect_faces (fake cascade: sorting and scaling back) ------------------------------------

class FakeCascade:
    def __init__(self, boxes):
        self.boxes = boxes
        self.seen_shape = None
        self.min_size = None

    def detectMultiScale(self, gray, scaleFactor, minNeighbors, minSize):  # noqa: N802 (OpenCV's name)
        self.seen_shape = gray.shape
        self.min_size = minSize
        return np.array(self.boxes)


def test_detect_upscales_small_images_and_sorts_largest_first(monkeypatch):
    cascade = FakeCascade([[30, 30, 75, 75], [0, 0, 120, 126], [90, 90, 30, 30]])
    monkeypatch.setattr(face_detect, "_cascade", lambda: cascade)
    boxes = face_detect.detect_faces(np.zeros((48, 48, 3), np.uint8), min_size=12)
    assert cascade.seen_shape == (144, 144)  # 48 px upscaled 3× before detection
    assert cascade.min_size == (36, 36)  # min_size is in original pixels
    # scaled back by 3, clipped to the image, largest first, the 10-px one dropped (< min_size)
    assert boxes == [(0, 0, 40, 42), (10, 10, 25, 25)]


def test_detect_leaves_mid_size_images_at_their_size(monkeypatch):
    cascade = FakeCascade([])
    monkeypatch.setattr(face_detect, "_cascade", lambda: cascade)
    assert face_detect.detect_faces(np.zeros((160, 300), np.uint8)) == []
    assert cascade.seen_shape == (160, 300) and cascade.min_size == (20, 20)  # 160 // 8 < 20: as before


def test_detect_shrinks_large_frames_to_the_smallest_face_sought(monkeypatch):
    cascade = FakeCascade([[10, 20, 40, 40], [100, 100, 24, 24]])
    monkeypatch.setattr(face_detect, "_cascade", lambda: cascade)
    boxes = face_detect.detect_faces(np.zeros((480, 640, 3), np.uint8))
    # faces from 480 // 8 = 60 px up: the frame shrunk by 24 / 60 so 60 px maps to the 24 px window
    assert cascade.seen_shape == (192, 256) and cascade.min_size == (24, 24)
    assert boxes == [(25, 50, 100, 100), (250, 250, 60, 60)]  # scaled back by 2.5


def test_smallest_face_grows_with_the_frame():
    assert face_detect.smallest_face((48, 48)) == 20  # small images: min_size alone, as before
    assert face_detect.smallest_face((159, 400)) == 20  # under 8 × min_size: as before
    assert face_detect.smallest_face((199, 400)) == 24
    assert face_detect.smallest_face((480, 640)) == 60
    assert face_detect.smallest_face((1080, 1920)) == 135
    assert face_detect.smallest_face((320, 320), min_size=50) == 50  # min_size still a floor
    assert face_detect.detection_scale((480, 640)) == pytest.approx(0.4)
    assert face_detect.detection_scale((1080, 1920)) == pytest.approx(24 / 135)
    # never shrunk below DETECT_MIN_SIDE, where a face filling the image is still found
    assert face_detect.detection_scale((250, 250), min_size=50) == pytest.approx(144 / 250)
    assert face_detect.detection_scale((48, 48)) == 3.0


@requires_haar
def test_real_cascade_finds_a_small_face_above_the_relative_size():
    from fer_keras.data.readers.synthetic import draw_face
    from fer_keras.inference.video import box_iou

    face = draw_face(1, "happiness", 96, "rgb")  # 1.6× the 60 px sought in a 480×640 frame
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[145:241, 255:351] = face
    (box,) = face_detect.detect_faces(frame)
    (full,) = face_detect._cascade().detectMultiScale(face_detect.to_gray_uint8(frame), 1.1, 5, minSize=(20, 20))
    assert box_iou(box, tuple(full)) > 0.85  # the face the full-resolution search found
    big = np.full((1080, 1920, 3), 90, np.uint8)
    big[500:596, 900:996] = face
    assert face_detect.detect_faces(big) == []  # below 1080 // 8 = 135 px: not sought in a larger frame
    assert face_detect.detect_faces(big, min_size=20) == []


@requires_haar
def test_real_cascade_finds_a_face_filling_a_larger_image():
    from fer_keras.data.readers.synthetic import draw_face

    image = draw_face(1, "neutral", 256, "rgb")
    (x, y, w, h), = face_detect.detect_faces(image)
    assert w >= 0.8 * 256 and face_detect.smallest_face(image.shape) == 32


@requires_haar
def test_real_cascade_finds_no_face_in_blank_images():
    assert face_detect.detect_faces(np.zeros((160, 160, 1), np.uint8)) == []
    assert face_detect.detect_faces(np.full((48, 48, 3), 128, np.uint8)) == []


def test_missing_cascade_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(DatasetError, match=r"install opencv-python-headless<5"):
        face_detect.cascade_path()


# --- detect_mtcnn: the same relative search (fake MTCNN) ---------------------------------------

class FakeMTCNN:
    """Answers ``faces`` from the ``found_from``-th call on (none before); records each call's image shape."""

    def __init__(self, faces, found_from: int = 0):
        self.faces, self.found_from = faces, found_from
        self.seen_shapes = []

    @property
    def seen_shape(self):
        return self.seen_shapes[-1]

    def detect_faces(self, rgb, min_face_size, threshold_onet, scale_factor=0.709):
        self.seen_shapes.append(rgb.shape)
        self.min_face_size = min_face_size
        return self.faces if len(self.seen_shapes) > self.found_from else []


@pytest.mark.parametrize("shape, seen", [
    ((480, 640, 3), (80, 107, 3)),  # first pass: faces from 480 // 4 = 120 px, shrunk by 20 / 120
    ((4000, 4000, 3), (80, 80, 3)),  # a huge photo is searched at a bounded size (12000 px too: 80 px)
    ((140, 140, 3), (140, 140, 3)),  # small images as before (the face fills them)
])
def test_mtcnn_seeks_faces_relative_to_the_photo_on_a_shrunk_copy(monkeypatch, shape, seen):
    face = {"box": [8, 10, 40, 40], "confidence": 0.99, "keypoints": {"left_eye": (20, 24), "right_eye": (36, 24)}}
    fake = FakeMTCNN([face])
    monkeypatch.setattr(face_detect, "mtcnn_detector", lambda: fake)
    (detection,) = face_detect.detect_mtcnn(np.zeros(shape, np.uint8))
    assert fake.seen_shape == seen and fake.min_face_size == 20
    fx, fy = shape[1] / seen[1], shape[0] / seen[0]
    assert detection.box == tuple(int(round(v)) for v in (8 * fx, 10 * fy, 40 * fx, 40 * fy))
    assert detection.left_eye == pytest.approx((20 * fx, 24 * fy))


@pytest.mark.parametrize("shape, passes", [
    ((480, 640, 3), [(80, 107, 3), (160, 213, 3)]),  # then faces from 480 // 8 = 60 px
    ((320, 320, 3), [(80, 80, 3), (160, 160, 3)]),
    ((140, 140, 3), [(140, 140, 3)]),  # one search: both passes would seek the same faces
])
def test_mtcnn_searches_smaller_faces_only_when_the_first_pass_finds_none(monkeypatch, shape, passes):
    face = {"box": [8, 10, 40, 40], "confidence": 0.99, "keypoints": {}}
    fake = FakeMTCNN([face], found_from=1)
    monkeypatch.setattr(face_detect, "mtcnn_detector", lambda: fake)
    found = face_detect.detect_mtcnn(np.zeros(shape, np.uint8))
    assert fake.seen_shapes == passes
    assert len(found) == (len(passes) > 1)


def test_mtcnn_with_alignment_searches_once_at_full_resolution(monkeypatch):
    fake = FakeMTCNN([])
    monkeypatch.setattr(face_detect, "mtcnn_detector", lambda: fake)
    assert face_detect.detect_mtcnn(np.zeros((480, 640, 3), np.uint8), relative=False) == []
    assert fake.seen_shapes == [(480, 640, 3)]


def test_mtcnn_without_the_first_pass_searches_once_for_every_face(monkeypatch):
    face = {"box": [8, 10, 40, 40], "confidence": 0.99, "keypoints": {}}
    fake = FakeMTCNN([face])
    monkeypatch.setattr(face_detect, "mtcnn_detector", lambda: fake)
    assert len(face_detect.detect_mtcnn(np.zeros((480, 640, 3), np.uint8), first_pass=False)) == 1
    assert fake.seen_shapes == [(160, 213, 3)]
    full = FaceCropConfig(detector="mtcnn", first_pass=False)
    assert face_detect.detector_settings(full) != face_detect.detector_settings(FaceCropConfig(detector="mtcnn"))
