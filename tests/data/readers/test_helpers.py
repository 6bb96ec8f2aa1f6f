"""fer_keras/data/readers/helpers.py: walking folders, finding the layout, label codes, screening files."""

from __future__ import annotations

import numpy as np
import pytest

from fer_keras.data.readers.helpers import find_layout, list_images, lookup_label, natural_key, screen_files
from fer_keras.errors import DatasetError
from fer_keras.labels import JAFFE_CODES
from tests.data.fixtures import corrupt, write_image


def _gradient(channels: int) -> np.ndarray:
    image = np.zeros((12, 16, channels), np.uint8)
    image[..., 0] = np.arange(16, dtype=np.uint8) * 10
    return image


def test_list_images_skips_hidden_and_non_images_and_sorts(tmp_path):
    for name in ("b.png", "a.JPG", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.tif").write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png"]
    assert [p.name for p in list_images(tmp_path, recursive=True)] == ["a.JPG", "b.png", "c.tif"]
    assert sorted(["10.jpeg", "2.jpeg", "001.jpeg"], key=natural_key) == ["001.jpeg", "2.jpeg", "10.jpeg"]


def test_screen_files_excludes_or_raises(tmp_path):
    good = write_image(tmp_path / "good.png", _gradient(1))
    bad = corrupt(write_image(tmp_path / "bad.png", _gradient(1)), "empty")
    rows = [{"path": str(bad), "label": "anger", "subject": "b"}, {"path": str(good), "label": "fear", "subject": "g"}]
    result = screen_files(rows, "demo")
    assert result.table["path"].tolist() == [str(good)]
    assert result.table["dataset"].tolist() == ["demo"]
    assert result.excluded.to_dict("records") == [{"path": str(bad), "label": "anger", "reason": "empty file"}]
    assert len(screen_files(rows, "demo", check="none").table) == 2
    with pytest.raises(DatasetError, match=r"demo: .*bad\.png: empty file \(strict mode\)"):
        screen_files(rows, "demo", strict=True)
    with pytest.raises(DatasetError, match="unknown check 'full'"):
        screen_files(rows, "demo", check="full")


def test_find_layout_looks_two_levels_down_then_names_the_layout(tmp_path):
    target = tmp_path / "outer" / "inner"
    target.mkdir(parents=True)
    (target / "marker").write_text("")
    assert find_layout(tmp_path, "demo", lambda f: (f / "marker").exists(), "a marker") == target
    with pytest.raises(DatasetError, match=r"^demo: expected a thing in .*; found none$"):
        find_layout(tmp_path, "demo", lambda f: False, "a thing")
    with pytest.raises(DatasetError, match="does not exist"):
        find_layout(tmp_path / "nope", "demo", lambda f: True, "a thing")
    with pytest.raises(DatasetError, match="no root given"):
        find_layout(None, "demo", lambda f: True, "a thing")


def test_lookup_label_raises_one_line_naming_the_file():
    assert lookup_label(JAFFE_CODES, "HA", "jaffe", "KA.HA1.1.tiff") == "happiness"
    with pytest.raises(DatasetError, match="unknown emotion code 'XX' in KA.XX1.1.tiff") as raised:
        lookup_label(JAFFE_CODES, "XX", "jaffe", "KA.XX1.1.tiff")
    assert "\n" not in str(raised.value)
