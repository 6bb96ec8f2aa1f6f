"""fer_keras/data/image_io.py: reading one image file, saying why a file is unusable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from fer_keras.errors import ImageError
from fer_keras.data.image_io import check_image, read_image
from fer_keras.errors import DatasetError
from tests.data.fixtures import corrupt, write_image


def _gradient(channels: int) -> np.ndarray:
    image = np.zeros((12, 16, channels), np.uint8)
    image[..., 0] = np.arange(16, dtype=np.uint8) * 10
    if channels == 3:
        image[..., 1] = 77
        image[..., 2] = 200
    return image


@pytest.mark.parametrize("name", ["a.png", "a.tiff", "a.tif", "a.bmp", "A.PNG", "a.TIFF"])
def test_lossless_formats_round_trip_exactly(tmp_path, name):
    rgb = _gradient(3)
    gray = _gradient(1)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / f"rgb_{name}", rgb)), rgb)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / f"gray_{name}", gray)), gray)


@pytest.mark.parametrize("name", ["a.jpg", "a.JPG", "a.jpeg"])
def test_jpeg_is_read_as_rgb_uint8(tmp_path, name):
    rgb = np.full((16, 16, 3), (250, 10, 10), np.uint8)  # red, so a BGR mix-up would show
    image = read_image(write_image(tmp_path / name, rgb))
    assert image.dtype == np.uint8 and image.shape == (16, 16, 3)
    assert image[..., 0].mean() > 200 and image[..., 2].mean() < 50


def test_sixteen_bit_and_alpha_become_uint8(tmp_path):
    import cv2

    deep = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    image = read_image(tmp_path / "deep.png")
    assert image.dtype == np.uint8 and image.shape == (8, 8, 1)
    np.testing.assert_array_equal(image[..., 0], deep // 257)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 255  # red in BGRA
    cv2.imwrite(str(tmp_path / "alpha.png"), rgba)
    assert read_image(tmp_path / "alpha.png").shape == (4, 4, 3)
    assert read_image(tmp_path / "alpha.png")[0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize(
    ("kind", "suffix", "reason"),
    [
        ("empty", ".png", "empty file"),
        ("truncated", ".png", "truncated"),
        ("truncated", ".jpg", "truncated"),
        ("truncated", ".tiff", "unreadable"),
        ("garbage", ".jpg", "unreadable"),
        ("garbage", ".tiff", "unreadable"),
    ],
)
def test_broken_files_get_a_reason_and_read_raises(tmp_path, kind, suffix, reason):
    path = corrupt(write_image(tmp_path / f"x{suffix}", _gradient(1)), kind)
    assert reason in check_image(path)
    assert reason in check_image(path, decode=True)
    with pytest.raises(ImageError, match=reason) as raised:
        read_image(path)
    assert raised.value.reason == check_image(path)
    assert isinstance(raised.value, DatasetError)
    copy = pickle.loads(pickle.dumps(raised.value))  # crosses process pools intact
    assert (copy.path, copy.reason, str(copy)) == (raised.value.path, raised.value.reason, str(raised.value))


def test_good_files_pass_both_checks(tmp_path):
    for name in ("a.png", "a.jpg", "a.tiff"):
        path = write_image(tmp_path / name, _gradient(3))
        assert check_image(path) is None and check_image(path, decode=True) is None


def test_decode_check_catches_what_the_header_check_cannot(tmp_path):
    path = write_image(tmp_path / "a.png", _gradient(3))
    data = bytearray(path.read_bytes())
    data[40:60] = b"\x00" * 20  # damage the IDAT stream; signature and IEND stay intact
    path.write_bytes(bytes(data))
    assert check_image(path) is None
    assert check_image(path, decode=True) is not None


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    assert "unsupported format" in check_image(tmp_path / "a.gif")
    assert "cannot open" in check_image(tmp_path / "missing.png")
