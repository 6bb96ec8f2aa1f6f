"""Dataset table → model input: decoded arrays, then a batched ``tf.data.Dataset``.

Images are decoded once with OpenCV (which reads JAFFE's TIFFs, unlike ``tf.io``), converted
to the colour mode, resized to the model's input size and kept in memory as uint8
``(N, H, W, C)``. Every fold then draws batches by index from that array: shuffling,
balancing (repeated indices) and augmentation happen per batch inside tf.data, with
prefetching, so the array is never copied per fold or per balanced copy. With an augmenter,
small images are gathered and augmented in chunks of several batches (then split back into
batches), which spreads tf.data's per-call cost over more images.
Pixels reach the model as float32 in 0..255; each model rescales inside itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd
import tensorflow as tf

from fer_keras.data.augment import augment_dataset
from fer_keras.data.registry import DatasetError

AUTOTUNE = tf.data.AUTOTUNE
#: Pixels (height × width) per augmented chunk: 256 images of 48×48; images of 224×224 get one batch per chunk.
AUGMENT_CHUNK_PIXELS = 256 * 48 * 48


def augment_chunk_size(batch_size: int, image_shape: tuple[int, ...]) -> int:
    """Images per augmenter call for ``(H, W, C)`` images: ``AUGMENT_CHUNK_PIXELS`` worth, at least one batch."""
    return max(batch_size, AUGMENT_CHUNK_PIXELS // max(1, int(image_shape[0]) * int(image_shape[1])))


def to_color_mode(image: np.ndarray, color_mode: str) -> np.ndarray:
    """HxW, HxWx1 or HxWx3 uint8 → HxWx1 (grayscale) or HxWx3 (rgb)."""
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[-1]
    if color_mode == "grayscale":
        return image if channels == 1 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None]
    if color_mode == "rgb":
        return image if channels == 3 else np.repeat(image, 3, axis=-1)
    raise DatasetError(f"unknown color_mode {color_mode!r}; use grayscale or rgb")


def resize(image: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Resize to (height, width), area interpolation when shrinking, keeping the channel axis."""
    height, width = image_size
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] > height or image.shape[1] > width
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized if resized.ndim == 3 else resized[..., None]


def load_images(
    table: pd.DataFrame,
    image_size: tuple[int, int],
    color_mode: str,
    read: Callable[[str], np.ndarray] | None = None,
    workers: int = 4,
) -> np.ndarray:
    """Decode every row of ``table`` to one uint8 array ``(N, H, W, C)``.

    Rows with an ``image`` array use it; otherwise ``path`` is read with ``read``
    (default: :func:`fer_keras.data.image_io.read_image`).
    """
    if read is None:
        from fer_keras.data.image_io import read_image as read

    has_arrays = "image" in table.columns

    def one(position: int) -> np.ndarray:
        row = table.iloc[position]
        image = row["image"] if has_arrays and row["image"] is not None else read(row["path"])
        return resize(to_color_mode(np.asarray(image, dtype=np.uint8), color_mode), image_size)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(one, range(len(table))))
    channels = 1 if color_mode == "grayscale" else 3
    if not images:
        return np.zeros((0, *image_size, channels), np.uint8)
    return np.stack(images)


def decode_or_exclude(
    table: pd.DataFrame, image_size: tuple[int, int], color_mode: str, strict: bool = False, workers: int = 4
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Like :func:`load_images`, but a file that fails to decode is left out instead of stopping the run.

    Returns the images of the rows that decoded, a boolean mask of those rows, and the
    exclusion rows (path, label, reason) of the others; with ``strict`` the first failure raises.
    """
    from fer_keras.data.image_io import ImageError, read_image

    failures: dict[str, str] = {}

    def read(path: str) -> np.ndarray:
        try:
            return read_image(path)
        except ImageError as error:
            if strict:
                raise DatasetError(f"{error} (strict mode)") from None
            failures[str(path)] = error.reason
            return np.zeros((*image_size, 1), np.uint8)

    images = load_images(table, image_size, color_mode, read=read, workers=workers)
    paths = table["path"].astype(str) if "path" in table.columns else pd.Series([""] * len(table))
    keep = ~paths.isin(failures).to_numpy()
    excluded = pd.DataFrame({"path": paths[~keep].to_numpy(), "label": table.loc[~keep, "label"].to_numpy(),
                             "reason": [failures[p] for p in paths[~keep]]})
    return images[keep], keep, excluded


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
    if chunk != batch_size:
        dataset = dataset.rebatch(batch_size).apply(
            tf.data.experimental.assert_cardinality(math.ceil(len(indices) / batch_size)))
    return dataset.prefetch(AUTOTUNE)
