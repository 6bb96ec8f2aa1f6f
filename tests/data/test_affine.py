"""fer_keras/data/affine.py: the one-warp RandomAffine layer, its matrices and its XLA warp."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from fer_keras.data.affine import RandomAffine, affine_matrices, warp_bilinear
from fer_keras.errors import DatasetError
from tests.harness import check_layer


def images_like(batch: int = 6, size: int = 20, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Float32 0..255 noise with a bright off-centre block (every transform moves it)."""
    images = np.random.default_rng(seed).uniform(0, 120, (batch, size, size + 2, channels)).astype(np.float32)
    images[:, 2:7, 3:8, :] = 250.0
    return images


def tf_kernel(images, matrices) -> np.ndarray:
    """TensorFlow's own bilinear, nearest-fill projective warp of ``images`` by ``(B, 6)`` maps."""
    shape = tf.shape(images)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.convert_to_tensor(images), transforms=tf.concat([matrices, tf.zeros([shape[0], 2])], axis=1),
        output_shape=shape[1:3], fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST",
    ).numpy()


def test_identity_when_not_training():
    layer = RandomAffine(rotation=30, zoom=0.2, stretch=0.2, shift=0.2, flip=True, seed=0)
    images = images_like()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images)), images)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)


@pytest.mark.parametrize("channels", [1, 3])
def test_shape_dtype_and_range_preserved(channels):
    layer = RandomAffine(rotation=20, zoom=0.1, stretch=0.1, shift=0.1, flip=True, seed=1)
    images = images_like(channels=channels)
    out = keras.ops.convert_to_numpy(layer(images, training=True))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= images.min() - 1e-3 and out.max() <= images.max() + 1e-3  # bilinear never overshoots
    assert all(np.abs(o - i).max() > 20 for o, i in zip(out, images))
    single = keras.ops.convert_to_numpy(layer(images[0], training=True))
    assert single.shape == images[0].shape


def test_warp_matches_tensorflow_kernel_on_random_maps():
    images = images_like(batch=8, channels=3)
    matrices = affine_matrices(8, 20, 22, rotation=25, zoom=0.2, stretch=0.2, shift=0.2, flip=True)
    difference = np.abs(warp_bilinear(tf.constant(images), matrices).numpy() - tf_kernel(images, matrices))
    assert difference.max() < 0.05


def test_rotation_only_layer_equals_tensorflow_kernel_on_its_own_draws():
    images = images_like(batch=6)
    out = keras.ops.convert_to_numpy(RandomAffine(rotation=30, seed=4)(images, training=True))
    matrices = RandomAffine(rotation=30, seed=4).random_matrices(6, 20, 22)  # same seed, same draws
    np.testing.assert_allclose(matrices[:, 0] ** 2 + matrices[:, 3] ** 2, 1.0, rtol=1e-5)  # pure rotation
    assert np.abs(out - tf_kernel(images, matrices)).max() < 0.05
    assert np.abs(out - images).max() > 20


def test_fixed_rotation_equals_keras_random_rotation():
    factor = 0.04  # of a full turn, as RandomRotation counts
    images = images_like(batch=3)
    matrices = affine_matrices(3, 20, 22, rotation=factor * 360.0, uniform=lambda shape, low, high: tf.fill(shape, high))
    ours = warp_bilinear(tf.constant(images), matrices).numpy()
    reference = keras.layers.RandomRotation((factor, factor), fill_mode="nearest", seed=0)(images, training=True)
    assert np.abs(ours - keras.ops.convert_to_numpy(reference)).max() < 0.05


def test_flip_only_flips_exactly():
    images = images_like(batch=32)
    out = keras.ops.convert_to_numpy(RandomAffine(flip=True, seed=0)(images, training=True))
    same = [np.array_equal(o, i) for o, i in zip(out, images)]
    mirrored = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert any(same) and any(mirrored)


def test_same_seed_same_output_and_other_seed_differs():
    images = images_like()

    def run(seed):
        return keras.ops.convert_to_numpy(RandomAffine(rotation=15, zoom=0.1, shift=0.1, seed=seed)(images, training=True))

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.allclose(run(7), run(8))


def test_config_round_trip_and_registered_name():
    layer = RandomAffine(rotation=12, zoom=0.1, stretch=0.2, shift=0.05, flip=True, seed=3, name="affine")
    images = images_like()
    clone, loaded = check_layer(layer, images.shape, images.shape, expected_params=0, inputs=images)
    assert isinstance(clone, RandomAffine) and isinstance(loaded, RandomAffine)
    assert keras.saving.get_registered_name(RandomAffine) == "fer_keras>RandomAffine"
    for key in ("rotation", "zoom", "stretch", "shift", "flip", "seed", "name"):
        assert clone.get_config()[key] == layer.get_config()[key]
        assert loaded.get_config()[key] == layer.get_config()[key]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(images, training=True)),
                                  keras.ops.convert_to_numpy(layer(images, training=True)))


def test_runs_inside_tf_data_map():
    layer = RandomAffine(rotation=10, shift=0.1, flip=True, seed=0)
    dataset = tf.data.Dataset.from_tensor_slices(images_like(batch=8)).batch(3)
    batches = list(dataset.map(lambda x: layer(x, training=True)).as_numpy_iterator())
    assert [len(b) for b in batches] == [3, 3, 2] and batches[0].dtype == np.float32


@pytest.mark.parametrize("bad", [{"zoom": 1.0}, {"shift": -0.1}, {"rotation": 200.0}])
def test_out_of_range_amounts_raise(bad):
    with pytest.raises(DatasetError):
        RandomAffine(**bad)
