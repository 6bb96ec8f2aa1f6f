"""Tests for fer_keras.data.faces: cropping, exclusion, caching and counts (fake detector);
the search size relative to the frame; the real Haar cascade on blank images, synthetic faces
and the real CK+48 faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.config import FaceCropConfig
from fer_keras.data import faces
from fer_keras.data.registry import DatasetError
from tests.conftest import requires_haar


def coordinate_image(height: int = 100, width: int = 100) -> np.ndarray:
    """RGB image whose pixel (y, x) holds (y, x, 7): a crop tells where it came from."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([ys, xs, np.full_like(ys, 7)], axis=-1).astype(np.uint8)


def crop_origin_and_size(crop: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a crop of ``coordinate_image``."""
    return int(crop[0, 0, 0]), int(crop[0, 0, 1]), crop.shape[0], crop.shape[1]


class FakeDetector:
    """Finds a 20×20 face at (10, 10) in images brighter than 100 and none in darker ones."""

    def __init__(self):
        self.calls = 0
        self.min_sizes = []

    def __call__(self, image, min_size=20):
        self.calls += 1
        self.min_sizes.append(min_size)
        return [(10, 10, 20, 20), (0, 0, 5, 5)] if image.mean() > 100 else []


@pytest.fixture
def fake_detector(stub_detector) -> FakeDetector:
    return stub_detector(FakeDetector())


def tiny_table() -> pd.DataFrame:
    """Five 40×40 gray images: three 'with a face' (bright), two without (dark)."""
    brightness = {"a": 200, "b": 150, "c": 30, "d": 180, "e": 10}
    labels = {"a": "anger", "b": "anger", "c": "anger", "d": "fear", "e": "fear"}
    rows = []
    for name, value in brightness.items():
        image = np.full((40, 40, 1), value, dtype=np.uint8)
        image[10:30, 10:30] = value - 5  # the "face" region differs from the background
        rows.append({"path": f"{name}.png", "image": image, "label": labels[name], "subject": name, "dataset": "toy"})
    return pd.DataFrame(rows)


# --- crop_face -------------------------------------------------------------------------------

def test_crop_margin_on_every_side_square():
    crop = faces.crop_face(coordinate_image(), (40, 40, 20, 20), margin=0.5, square=True)
    assert crop_origin_and_size(crop) == (30, 30, 40, 40)
    assert crop.dtype == np.uint8 and crop.shape[-1] == 3


def test_crop_square_uses_longer_side_centred():
    crop = faces.crop_face(coordinate_image(), (40, 40, 20, 10), margin=0.0, square=True)
    assert crop_origin_and_size(crop) == (35, 40, 20, 20)


def test_crop_not_square_keeps_box_shape():
    crop = faces.crop_face(coordinate_image(), (40, 40, 20, 10), margin=0.5, square=False)
    assert crop_origin_and_size(crop) == (35, 30, 20, 40)


def test_crop_shifted_inside_at_the_edge():
    crop = faces.crop_face(coordinate_image(), (0, 85, 20, 15), margin=0.5, square=True)
    top, left, height, width = crop_origin_and_size(crop)
    assert (height, width) == (40, 40)  # the longer side, 20 × (1 + 2 × 0.5)
    assert left == 0 and top + height == 100


def test_crop_larger_than_image_shrinks_to_a_square_inside():
    crop = faces.crop_face(coordinate_image(60, 48), (2, 5, 44, 50), margin=0.2, square=True)
    assert crop.shape[:2] == (48, 48)
    gray = faces.crop_face(np.zeros((48, 48, 1), np.uint8), (3, 3, 42, 42), margin=0.2, square=True)
    assert gray.shape == (48, 48, 1)


def test_crop_rejects_empty_box():
    with pytest.raises(DatasetError, match="no area"):
        faces.crop_face(coordinate_image(), (5, 5, 0, 10))


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
    monkeypatch.setattr(faces, "_cascade", lambda: cascade)
    boxes = faces.detect_faces(np.zeros((48, 48, 3), np.uint8), min_size=12)
    assert cascade.seen_shape == (144, 144)  # 48 px upscaled 3× before detection
    assert cascade.min_size == (36, 36)  # min_size is in original pixels
    # scaled back by 3, clipped to the image, largest first, the 10-px one dropped (< min_size)
    assert boxes == [(0, 0, 40, 42), (10, 10, 25, 25)]


def test_detect_leaves_mid_size_images_at_their_size(monkeypatch):
    cascade = FakeCascade([])
    monkeypatch.setattr(faces, "_cascade", lambda: cascade)
    assert faces.detect_faces(np.zeros((160, 300), np.uint8)) == []
    assert cascade.seen_shape == (160, 300) and cascade.min_size == (20, 20)  # 160 // 8 < 20: as before


def test_detect_shrinks_large_frames_to_the_smallest_face_sought(monkeypatch):
    cascade = FakeCascade([[10, 20, 40, 40], [100, 100, 24, 24]])
    monkeypatch.setattr(faces, "_cascade", lambda: cascade)
    boxes = faces.detect_faces(np.zeros((480, 640, 3), np.uint8))
    # faces from 480 // 8 = 60 px up: the frame shrunk by 24 / 60 so 60 px maps to the 24 px window
    assert cascade.seen_shape == (192, 256) and cascade.min_size == (24, 24)
    assert boxes == [(25, 50, 100, 100), (250, 250, 60, 60)]  # scaled back by 2.5


def test_smallest_face_grows_with_the_frame():
    assert faces.smallest_face((48, 48)) == 20  # small images: min_size alone, as before
    assert faces.smallest_face((159, 400)) == 20  # under 8 × min_size: as before
    assert faces.smallest_face((199, 400)) == 24
    assert faces.smallest_face((480, 640)) == 60
    assert faces.smallest_face((1080, 1920)) == 135
    assert faces.smallest_face((320, 320), min_size=50) == 50  # min_size still a floor
    assert faces.detection_scale((480, 640)) == pytest.approx(0.4)
    assert faces.detection_scale((1080, 1920)) == pytest.approx(24 / 135)
    # never shrunk below DETECT_MIN_SIDE, where a face filling the image is still found
    assert faces.detection_scale((250, 250), min_size=50) == pytest.approx(144 / 250)
    assert faces.detection_scale((48, 48)) == 3.0


@requires_haar
def test_real_cascade_finds_a_small_face_above_the_relative_size():
    from fer_keras.data.synthetic import draw_face
    from fer_keras.inference.video import box_iou

    face = draw_face(1, "happiness", 96, "rgb")  # 1.6× the 60 px sought in a 480×640 frame
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[145:241, 255:351] = face
    (box,) = faces.detect_faces(frame)
    (full,) = faces._cascade().detectMultiScale(faces.to_gray_uint8(frame), 1.1, 5, minSize=(20, 20))
    assert box_iou(box, tuple(full)) > 0.85  # the face the full-resolution search found
    big = np.full((1080, 1920, 3), 90, np.uint8)
    big[500:596, 900:996] = face
    assert faces.detect_faces(big) == []  # below 1080 // 8 = 135 px: not sought in a larger frame
    assert faces.detect_faces(big, min_size=20) == []


@requires_haar
def test_real_cascade_finds_a_face_filling_a_larger_image():
    from fer_keras.data.synthetic import draw_face

    image = draw_face(1, "neutral", 256, "rgb")
    (x, y, w, h), = faces.detect_faces(image)
    assert w >= 0.8 * 256 and faces.smallest_face(image.shape) == 32


def test_box_cache_file_names_the_detection_rule(tmp_path, monkeypatch):
    haar = FaceCropConfig(detector="haar")
    before = faces.BoxCache(tmp_path, haar).path
    monkeypatch.setattr(faces, "MIN_FACE_DIVISOR", 10)
    assert faces.BoxCache(tmp_path, haar).path != before


@requires_haar
def test_real_cascade_finds_no_face_in_blank_images():
    assert faces.detect_faces(np.zeros((160, 160, 1), np.uint8)) == []
    assert faces.detect_faces(np.full((48, 48, 3), 128, np.uint8)) == []


def test_missing_cascade_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(DatasetError, match=r"install opencv-python-headless<5"):
        faces.cascade_path()


# --- crop_table ------------------------------------------------------------------------------

def test_crop_table_keeps_faces_and_excludes_the_rest(fake_detector):
    table = tiny_table()
    kept, excluded = faces.crop_table(table, FaceCropConfig(enabled=True, margin=0.0, square=True))
    assert kept["path"].tolist() == ["a.png", "b.png", "d.png"]
    assert kept["face_box"].tolist() == [(10, 10, 20, 20)] * 3  # the largest of the two boxes
    assert all(image.shape == (20, 20, 1) for image in kept["image"])
    assert kept.loc[0, "image"].max() == 195  # the face region, not the background
    assert excluded["path"].tolist() == ["c.png", "e.png"]
    assert excluded["reason"].tolist() == [faces.NO_FACE] * 2
    assert list(excluded.columns[:3]) == ["path", "label", "reason"]
    assert "image" not in excluded.columns and "subject" in excluded.columns
    assert fake_detector.min_sizes == [20] * 5


def test_crop_table_disabled_returns_table_unchanged(fake_detector):
    table = tiny_table()
    kept, excluded = faces.crop_table(table, FaceCropConfig(enabled=False))
    assert kept is table and excluded.empty and fake_detector.calls == 0


def test_crop_table_no_face_anywhere_is_an_error(fake_detector):
    table = tiny_table()
    table = table[table["path"].isin(["c.png", "e.png"])]
    with pytest.raises(DatasetError, match="no face found in any of the 2 images"):
        faces.crop_table(table, FaceCropConfig(enabled=True))


def test_crop_table_reads_paths_and_lists_unreadable_files(fake_detector, tmp_path):
    bright = np.full((40, 40, 3), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "face.png"), bright)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    table = pd.DataFrame({"path": [str(tmp_path / "face.png"), str(tmp_path / "broken.png")],
                          "label": ["anger", "fear"], "subject": ["s1", "s2"], "dataset": ["toy", "toy"]})
    kept, excluded = faces.crop_table(table, FaceCropConfig(enabled=True, margin=0.0))
    assert kept.loc[0, "image"].shape == (20, 20, 3)
    assert excluded["reason"].tolist() == [faces.UNREADABLE]


def test_crop_table_cache_skips_detection_the_second_time(fake_detector, tmp_path):
    table = tiny_table()
    config = FaceCropConfig(enabled=True, margin=0.0)
    first, first_excluded = faces.crop_table(table, config, cache_dir=tmp_path)
    assert fake_detector.calls == 5
    second, second_excluded = faces.crop_table(table, config, cache_dir=tmp_path)
    assert fake_detector.calls == 5  # boxes and "no face" both came from the cache
    assert second["face_box"].tolist() == first["face_box"].tolist()
    assert second_excluded["path"].tolist() == first_excluded["path"].tolist()
    # margin only changes the crop: still cached
    wider, _ = faces.crop_table(table, config.model_copy(update={"margin": 0.25}), cache_dir=tmp_path)
    assert fake_detector.calls == 5 and wider.loc[0, "image"].shape == (30, 30, 1)
    # a changed image or a different min_size is detected again
    table.loc[0, "image"][0, 0] = 0
    faces.crop_table(table, config, cache_dir=tmp_path)
    assert fake_detector.calls == 6
    faces.crop_table(table, config.model_copy(update={"min_size": 10}), cache_dir=tmp_path)
    assert fake_detector.calls == 11


def test_crop_table_cache_off_detects_every_time(fake_detector, tmp_path):
    config = FaceCropConfig(enabled=True, cache=False)
    faces.crop_table(tiny_table(), config, cache_dir=tmp_path)
    faces.crop_table(tiny_table(), config, cache_dir=tmp_path)
    assert fake_detector.calls == 10 and not list(tmp_path.iterdir())


def test_damaged_cache_is_rebuilt(fake_detector, tmp_path):
    config = FaceCropConfig(enabled=True)
    faces.crop_table(tiny_table(), config, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("face_boxes_*.json")
    cache_file.write_text("{not json")
    kept, _ = faces.crop_table(tiny_table(), config, cache_dir=tmp_path)
    assert len(kept) == 3 and fake_detector.calls == 10


def test_counts_table_per_class(fake_detector):
    table = tiny_table()
    kept, _ = faces.crop_table(table, FaceCropConfig(enabled=True))
    counts = faces.counts_table(table, kept)
    assert counts.to_dict("records") == [
        {"class": "anger", "before": 3, "after": 2, "excluded": 1},
        {"class": "fear", "before": 2, "after": 1, "excluded": 1},
        {"class": "total", "before": 5, "after": 3, "excluded": 2},
    ]


# --- real faces ------------------------------------------------------------------------------

@pytest.mark.real_data
def test_ckplus48_detection_rate(ckplus48_root: Path, tmp_path):
    files = sorted(ckplus48_root.glob("*/*.png"))
    assert len(files) == 981
    table = pd.DataFrame({"path": [str(f) for f in files], "label": [f.parent.name for f in files],
                          "subject": [f.name.split("_")[0] for f in files], "dataset": "ckplus48"})
    kept, excluded = faces.crop_table(table, FaceCropConfig(enabled=True, min_size=20), cache_dir=tmp_path)
    rate = len(kept) / len(table)
    assert rate >= 0.97, f"face detection rate on CK+48 fell to {rate:.3f}"
    assert set(excluded["reason"]) <= {faces.NO_FACE}
    counts = faces.counts_table(table, kept)
    assert counts.loc[counts["class"] == "total", "excluded"].item() == len(excluded)
    assert all(image.shape[2] == 1 and image.shape[0] == image.shape[1] for image in kept["image"])
