"""Tests for fer_keras.data.faces.table: cropping a table, exclusion, caching and counts (fake detector);
the real CK+48 faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.config import FaceCropConfig
from fer_keras.data.faces import detect as face_detect
from fer_keras.data.faces import table as faces
from fer_keras.errors import DatasetError


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


def test_box_cache_file_names_the_detection_rule(tmp_path, monkeypatch):
    haar = FaceCropConfig(detector="haar")
    before = faces.BoxCache(tmp_path, haar).path
    monkeypatch.setattr(face_detect, "MIN_FACE_DIVISOR", 10)
    assert faces.BoxCache(tmp_path, haar).path != before


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


def test_crop_table_reads_files_as_the_predictor_does(fake_detector, tmp_path):
    """An RGBA PNG and a 16-bit PNG are cropped from the RGB uint8 image read_image gives (as predict reads them)."""
    from fer_keras.data.image_io import read_image

    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 250, 180, 120, 255  # B, G, R, alpha
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    deep = np.full((40, 40, 3), 200 * 257, np.uint16)
    deep[..., 0] = 120 * 257
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    paths = [str(tmp_path / "rgba.png"), str(tmp_path / "deep.png")]
    table = pd.DataFrame({"path": paths, "label": ["anger", "fear"], "subject": ["s1", "s2"], "dataset": ["toy", "toy"]})
    kept, excluded = faces.crop_table(table, FaceCropConfig(enabled=True, margin=0.0))
    assert excluded.empty
    for path, crop in zip(paths, kept["image"]):
        assert crop.dtype == np.uint8
        np.testing.assert_array_equal(crop, read_image(path)[10:30, 10:30])


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
