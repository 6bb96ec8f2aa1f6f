"""fer_keras/data/decode.py: decoding, colour mode, resizing, without TensorFlow."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fer_keras.data.decode import load_images, resize, to_color_mode
from fer_keras.errors import DatasetError


def test_importing_decode_does_not_import_tensorflow():
    """The predictor prepares faces with this module; resizing must not load TensorFlow."""
    code = ("import sys, numpy as np, fer_keras.data.decode as d; "
            "d.resize(d.to_color_mode(np.zeros((60, 50, 3), np.uint8), 'grayscale'), (48, 48)); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_color_modes():
    gray = np.full((10, 12, 1), 100, np.uint8)
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 255
    assert to_color_mode(gray, "rgb").shape == (10, 12, 3)
    assert to_color_mode(gray[..., 0], "grayscale").shape == (10, 12, 1)
    converted = to_color_mode(rgb, "grayscale")
    assert converted.shape == (10, 12, 1) and 70 < converted.mean() < 80  # 0.299 * 255
    with pytest.raises(DatasetError):
        to_color_mode(gray, "cmyk")


def test_resize_keeps_channel_axis():
    assert resize(np.zeros((100, 80, 1), np.uint8), (48, 40)).shape == (48, 40, 1)
    assert resize(np.zeros((20, 20, 3), np.uint8), (48, 48)).shape == (48, 48, 3)


def test_load_images_from_arrays_and_files(tmp_path):
    import cv2

    path = tmp_path / "face.png"
    cv2.imwrite(str(path), np.full((64, 64), 200, np.uint8))
    table = pd.DataFrame({"path": [None, str(path)], "image": [np.full((30, 30, 3), 50, np.uint8), None]})
    images = load_images(table, (32, 32), "grayscale")
    assert images.shape == (2, 32, 32, 1) and images.dtype == np.uint8
    assert images[0].mean() == pytest.approx(50, abs=1) and images[1].mean() == pytest.approx(200, abs=1)


def test_a_file_that_passes_the_header_check_but_cannot_decode_is_excluded_not_fatal(tmp_path):
    # a PNG with its signature and IEND intact but garbage in between used to stop the run at decode
    from fer_keras.config import DataConfig
    from fer_keras.data.load import load_data
    from tests.data.fixtures import make_class_folders

    root = make_class_folders(tmp_path, {"happy": 3, "angry": 3})
    broken = root / "happy" / "happy_1.png"
    data = broken.read_bytes()
    broken.write_bytes(data[:16] + bytes(range(256)) * 4 + data[-16:])
    config = DataConfig(dataset="folder", root=str(root))
    loaded = load_data(config)
    assert len(loaded.table) == 5 and len(loaded.images) == 5 and len(loaded.label_ids) == 5
    assert str(broken) not in set(loaded.table["path"])
    row = loaded.excluded[loaded.excluded["path"] == str(broken)]
    assert row["reason"].tolist() == ["unreadable (OpenCV cannot decode it)"] and row["label"].tolist() == ["happiness"]
    with pytest.raises(DatasetError, match=r"happy_1\.png: unreadable .*\(strict mode\)"):
        load_data(DataConfig(dataset="folder", root=str(root), strict=True))
