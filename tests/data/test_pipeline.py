"""fer_keras/data/pipeline.py: batched tf.data datasets, chunked augmentation."""

import numpy as np
import pytest

from fer_keras.data.pipeline import augment_chunk_size, make_dataset
from fer_keras.errors import DatasetError


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


def labels_per_batch(dataset) -> list[list[int]]:
    return [y.tolist() for _, y in dataset.as_numpy_iterator()]


def test_augmented_chunks_give_the_same_batches_of_the_same_samples():
    images = np.arange(70, dtype=np.uint8)[:, None, None, None] * np.ones((70, 6, 6, 1), np.uint8)
    labels = np.arange(70)
    indices = np.concatenate([np.arange(70), np.arange(0, 70, 3)])  # repeated indices, as balancing makes
    plain = make_dataset(images, labels, batch_size=8, indices=indices, shuffle=True, seed=3)
    chunked = make_dataset(images, labels, batch_size=8, indices=indices, shuffle=True, seed=3,
                           augmenter=lambda x, training: x + 0.5, augment_chunk=20)
    expected = -(-len(indices) // 8)
    assert int(chunked.cardinality()) == expected
    batches = list(chunked.as_numpy_iterator())
    assert [len(y) for _, y in batches] == [8] * (expected - 1) + [len(indices) % 8]
    assert [y.tolist() for _, y in batches] == labels_per_batch(plain)
    assert all(np.all(x[:, 0, 0, 0] == y + 0.5) for x, y in batches)  # each image stays with its label
    assert labels_per_batch(chunked) != [y.tolist() for _, y in batches]  # reshuffled every epoch


def test_mirrored_strategy_keeps_the_batches_of_an_augmented_dataset():
    """tf.distribute rebatches a dataset to the size of its last batching op: chunked augmentation
    must end in batches of ``batch_size``, or a mirrored fit trains on chunks (49 images in one step)."""
    import tensorflow as tf

    images = np.arange(49, dtype=np.uint8)[:, None, None, None] * np.ones((49, 6, 6, 1), np.uint8)
    dataset = make_dataset(images, np.arange(49), batch_size=8, augmenter=lambda x, training: x, augment_chunk=32)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    distributed = strategy.experimental_distribute_dataset(dataset)
    sizes = [int(tf.shape(strategy.experimental_local_results(y)[0])[0]) for _, y in distributed]
    assert sizes == [8] * 6 + [1]


def test_default_chunk_size_depends_on_image_size():
    assert augment_chunk_size(32, (48, 48, 1)) == 256
    assert augment_chunk_size(16, (224, 224, 3)) == 16
    assert augment_chunk_size(512, (48, 48, 1)) == 512


def test_deterministic_augmentation_is_seeded_with_chunks():
    from fer_keras.config import AugmentationConfig
    from fer_keras.data.augment import build_augmenter

    images = np.random.default_rng(0).integers(0, 255, (40, 12, 12, 1), dtype=np.uint8)
    labels = np.arange(40) % 4
    config = AugmentationConfig(enabled=True, rotation=20, shift=0.1, flip=True)

    def epoch(seed):
        dataset = make_dataset(images, labels, batch_size=6, shuffle=True, seed=seed, deterministic=True,
                               augmenter=build_augmenter(config, seed=seed), augment_chunk=16)
        return np.concatenate([x for x, _ in dataset.as_numpy_iterator()])

    first = epoch(1)
    assert first.shape == (40, 12, 12, 1)
    np.testing.assert_array_equal(first, epoch(1))
    assert not np.array_equal(first, epoch(2))


def test_bad_batch_size_raises():
    with pytest.raises(DatasetError):
        make_dataset(np.zeros((4, 4, 4, 1), np.uint8), np.arange(4), batch_size=0)
