"""Tests for fer_keras.data.augment: each transform does what it says, inside tf.data too."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from fer_keras.config import AugmentationConfig
from fer_keras.data.affine import RandomAffine
from fer_keras.data.augment import (
    augment_dataset,
    build_augmenter,
)
from tests.harness import check_config_round_trip, check_model_round_trip


def aug_config(**values) -> AugmentationConfig:
    return AugmentationConfig(enabled=True, **values)


def asymmetric_images(batch: int = 4, size: int = 24, channels: int = 1) -> np.ndarray:
    """Float32 0..255 images with a bright off-centre block: rotation, shift and flip all move it."""
    images = np.full((batch, size, size, channels), 40.0, dtype=np.float32)
    images[:, 3:10, 2:8, :] = 230.0
    images[:, 14:20, 12:22, :] = 120.0
    return images


def high_frequency_energy(images: np.ndarray) -> float:
    """Mean squared Laplacian: large for pixel noise, small after blurring."""
    return float(np.mean([cv2.Laplacian(image[..., 0].astype(np.float64), cv2.CV_64F).var() for image in images]))


def test_disabled_or_all_zero_gives_none():
    assert build_augmenter(AugmentationConfig(), seed=0) is None
    assert build_augmenter(aug_config(), seed=0) is None
    assert build_augmenter(AugmentationConfig(enabled=False, rotation=20, flip=True), seed=0) is None


@pytest.mark.parametrize("channels", [1, 3])
def test_full_augmenter_keeps_shape_dtype_and_range(channels):
    config = aug_config(rotation=20, zoom=0.1, stretch=0.1, shift=0.1, flip=True, blur=0.5, noise=0.2)
    augmenter = build_augmenter(config, seed=1)
    images = asymmetric_images(channels=channels)
    images[0] = 255.0  # saturated: the noise must be clipped back into range
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert not np.allclose(out, images)


def test_geometric_transforms_are_one_random_affine_layer():
    config = aug_config(rotation=10, zoom=0.1, stretch=0.2, shift=0.05, flip=True, crop=0.1, noise=0.1)
    augmenter = build_augmenter(config, seed=0)
    names = [layer.name for layer in augmenter.layers]
    assert names == ["affine", "crop", "to_unit", "noise", "to_pixels", "clip_0_255"]
    affine = augmenter.get_layer("affine")
    assert isinstance(affine, RandomAffine)
    assert (affine.rotation, affine.zoom, affine.stretch, affine.shift, affine.flip) == (10, 0.1, 0.2, 0.05, True)
    assert [layer.name for layer in build_augmenter(aug_config(shift=0.1), seed=0).layers] == ["affine", "clip_0_255"]
    assert [layer.name for layer in build_augmenter(aug_config(blur=0.5), seed=0).layers] == ["blur", "clip_0_255"]


def test_rotation_changes_every_image():
    augmenter = build_augmenter(aug_config(rotation=30), seed=3)
    images = asymmetric_images(batch=6)
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    assert all(np.abs(o - i).max() > 20 for o, i in zip(out, images))


def test_flip_only_mirrors():
    augmenter = build_augmenter(aug_config(flip=True), seed=0)
    images = asymmetric_images(batch=32)
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    same = [np.allclose(o, i) for o, i in zip(out, images)]
    mirrored = [np.allclose(o, i[:, ::-1]) for o, i in zip(out, images)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert any(same) and any(mirrored)


def test_blur_lowers_high_frequency_energy():
    augmenter = build_augmenter(aug_config(blur=1.0), seed=0)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    assert high_frequency_energy(out) < 0.5 * high_frequency_energy(images)


def test_blur_probability_leaves_some_images_untouched():
    augmenter = build_augmenter(aug_config(blur=0.5), seed=0)
    images = np.random.default_rng(0).uniform(0, 255, (64, 8, 8, 1)).astype(np.float32)
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    untouched = np.mean([np.allclose(o, i) for o, i in zip(out, images)])
    assert 0.2 < untouched < 0.8


def test_noise_std_in_pixel_units():
    augmenter = build_augmenter(aug_config(noise=0.1), seed=0)
    images = np.full((8, 32, 32, 1), 128.0, dtype=np.float32)
    out = keras.ops.convert_to_numpy(augmenter(images, training=True))
    assert np.std(out - images) == pytest.approx(25.5, rel=0.1)


def test_runs_inside_tf_data_graph_map():
    augmenter = build_augmenter(aug_config(rotation=15, shift=0.1, flip=True, noise=0.05), seed=0)
    images = asymmetric_images(batch=8)
    ds = tf.data.Dataset.from_tensor_slices((images.astype(np.uint8), np.arange(8))).batch(4)
    batches = list(augment_dataset(ds, augmenter).as_numpy_iterator())
    out = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    assert out.shape == images.shape and out.dtype == np.float32
    assert sorted(labels.tolist()) == list(range(8))
    assert 0.0 <= out.min() and out.max() <= 255.0
    assert np.abs(out - images).mean() > 1.0


def test_sequential_map_is_reproducible_with_the_same_seed():
    config = aug_config(rotation=15, noise=0.05)
    ds = tf.data.Dataset.from_tensor_slices(asymmetric_images(batch=4)).batch(2)

    def epoch(seed):
        mapped = augment_dataset(ds.map(lambda x: (x, 0)), build_augmenter(config, seed=seed), parallel=False)
        return np.concatenate([b[0] for b in mapped.as_numpy_iterator()])

    np.testing.assert_array_equal(epoch(5), epoch(5))
    assert not np.array_equal(epoch(5), epoch(6))


def test_none_augmenter_leaves_dataset_alone():
    ds = tf.data.Dataset.range(3)
    assert augment_dataset(ds, None) is ds


def test_augmenter_round_trips_through_get_config():
    augmenter = build_augmenter(aug_config(rotation=10, stretch=0.2, blur=0.3, noise=0.1, flip=True), seed=0)
    clone = check_config_round_trip(augmenter)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in augmenter.layers]
    out = keras.ops.convert_to_numpy(clone(asymmetric_images(), training=True))
    assert out.shape == asymmetric_images().shape
    original = keras.ops.convert_to_numpy(augmenter(asymmetric_images(), training=True))
    np.testing.assert_allclose(out, original, atol=1e-4)  # same seeds, same draws


def test_augmenter_saves_and_loads_as_a_keras_file(tmp_path):
    images = asymmetric_images(channels=3)
    augmenter = build_augmenter(aug_config(rotation=10, zoom=0.1, stretch=0.1, shift=0.1, flip=True, blur=0.3), seed=2)
    augmenter.build(images.shape)
    loaded = check_model_round_trip(augmenter, tmp_path, images)
    assert isinstance(loaded.get_layer("affine"), RandomAffine)
    assert loaded.get_layer("affine").get_config() == augmenter.get_layer("affine").get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(images, training=False)), images)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(images, training=True)),
                               keras.ops.convert_to_numpy(augmenter(images, training=True)), atol=1e-4)


def test_brightness_contrast_and_crop_change_images_within_range():
    images = asymmetric_images(batch=8, size=24) * 0.5 + 60.0
    for field in ("brightness", "contrast", "crop"):
        augmenter = build_augmenter(aug_config(**{field: 0.4}), seed=1)
        out = keras.ops.convert_to_numpy(augmenter(images, training=True))
        assert out.shape == images.shape and out.min() >= 0 and out.max() <= 255, field
        assert not np.allclose(out, images), field
    brightened = keras.ops.convert_to_numpy(build_augmenter(aug_config(brightness=0.4), seed=2)(images, training=True))
    shifts = (brightened - images).reshape(len(images), -1).mean(axis=1)
    assert np.abs(shifts).max() <= 0.4 * 255 + 1e-3 and np.abs(shifts).max() > 1
