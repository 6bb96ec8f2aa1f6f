"""Decoded images → a batched ``tf.data.Dataset`` for training and evaluation.

The images arrive decoded, in the colour mode and resized (:mod:`fer_keras.data.decode`), as one
uint8 ``(N, H, W, C)`` array kept in memory. Every fold then draws batches by index from that
array: shuffling, balancing (repeated indices) and augmentation happen per batch inside
tf.data, with prefetching, so the array is never copied per fold or per balanced copy. With an
augmenter, small images are gathered and augmented in chunks of several batches (then split
back into batches, so a distribution strategy still sees ``batch_size``), which spreads tf.data's
per-call cost over more images.
Pixels reach the model as float32 in 0..255; each model rescales inside itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from fer_keras.data.augment import augment_dataset
from fer_keras.errors import DatasetError

AUTOTUNE = tf.data.AUTOTUNE
#: Pixels (height × width) per augmented chunk: 256 images of 48×48; images of 224×224 get one batch per chunk.
AUGMENT_CHUNK_PIXELS = 256 * 48 * 48


def augment_chunk_size(batch_size: int, image_shape: tuple[int, ...]) -> int:
    """Images per augmenter call for ``(H, W, C)`` images: ``AUGMENT_CHUNK_PIXELS`` worth, at least one batch."""
    return max(batch_size, AUGMENT_CHUNK_PIXELS // max(1, int(image_shape[0]) * int(image_shape[1])))


def make_dataset(
    images: np.ndarray | tf.Tensor,
    labels: np.ndarray,
    batch_size: int,
    indices: np.ndarray | None = None,
    shuffle: bool = False,
    augmenter: Callable | None = None,
    seed: int = 0,
    deterministic: bool = False,
    image_index: np.ndarray | None = None,
    augment_chunk: int | None = None,
) -> tf.data.Dataset:
    """Batches of (float32 images 0..255, int32 labels) drawn from ``images[indices]``.

    ``indices`` address samples (``labels``); ``image_index`` maps a sample to its row of
    ``images`` when several samples share one image (augmented copies), identity otherwise.

    ``indices`` may repeat (balancing); ``shuffle`` reshuffles them every epoch;
    ``augmenter`` (a Keras layer/Sequential) runs on each training batch, one call at a time
    when ``deterministic`` (so a seed gives the same images). With an augmenter, it is called on
    chunks of ``augment_chunk`` images (default :func:`augment_chunk_size`) that are then split
    into the same batches, of the same samples in the same order, as without chunks.
    """
    images = tf.convert_to_tensor(images)
    labels = tf.convert_to_tensor(np.asarray(labels, dtype=np.int32))
    if indices is None:
        indices = np.arange(int(images.shape[0]))
    if batch_size < 1:
        raise DatasetError(f"batch_size={batch_size} is invalid; expected a positive number of images per batch")
    chunk = batch_size
    if augmenter is not None:
        chunk = augment_chunk or augment_chunk_size(batch_size, tuple(images.shape[1:]))
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(indices, dtype=np.int64))
    if shuffle:
        dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(chunk)

    image_rows = None if image_index is None else tf.convert_to_tensor(np.asarray(image_index, dtype=np.int64))

    def gather(batch_indices):
        rows = batch_indices if image_rows is None else tf.gather(image_rows, batch_indices)
        return tf.cast(tf.gather(images, rows), tf.float32), tf.gather(labels, batch_indices)

    dataset = dataset.map(gather, num_parallel_calls=AUTOTUNE)
    dataset = augment_dataset(dataset, augmenter, parallel=not deterministic)
    if chunk != batch_size:  # unbatch + batch, not rebatch: tf.distribute splits the last batch op's batches
        dataset = dataset.unbatch().batch(batch_size).apply(
            tf.data.experimental.assert_cardinality(math.ceil(len(indices) / batch_size)))
    return dataset.prefetch(AUTOTUNE)
