"""fer_keras/data/pipeline.py: decoding, colour mode, resizing, batched tf.data datasets."""

import numpy as np
import pandas as pd
import pytest

from fer_keras.data.pipeline import load_images, make_dataset, resize, to_color_mode
from fer_keras.data.registry import DatasetError


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


def test_make_dataset_batches_float_pixels_by_index():
    images = np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones((5, 4, 4, 1), np.uint8)
    labels = np.array([0, 1, 2, 3, 4])
    dataset = make_dataset(images, labels, batch_size=2, indices=np.array([4, 4, 1]))
    batches = list(dataset.as_numpy_iterator())
    assert [len(y) for _, y in batches] == [2, 1]
    x, y = batches[0]
    assert x.dtype == np.float32 and x.shape == (2, 4, 4, 1)
    assert y.tolist() == [4, 4] and x[0].max() == 4.0


def test_make_dataset_shuffles_each_epoch_and_augments():
    images = np.zeros((50, 4, 4, 1), np.uint8)
    labels = np.arange(50)
    dataset = make_dataset(images, labels, batch_size=50, shuffle=True, seed=1, augmenter=lambda x, training: x + 1.0)
    first, second = [y.tolist() for _, y in dataset.as_numpy_iterator()], [y.tolist() for _, y in dataset.as_numpy_iterator()]
    assert sorted(first[0]) == list(range(50)) and first != second
    assert next(iter(dataset))[0].numpy().min() == 1.0
