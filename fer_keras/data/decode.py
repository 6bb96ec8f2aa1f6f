"""Images → uint8 model inputs with OpenCV and numpy, no TensorFlow: decode, colour mode, resize.

Images are decoded with OpenCV (which reads JAFFE's TIFFs, unlike ``tf.io``), converted to the
colour mode and resized to the model's input size. :func:`load_images` does this for a whole
dataset table (training and evaluation); the predictor prepares each face with the same
:func:`to_color_mode` and :func:`resize`, so it needs no TensorFlow to do so.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd

from fer_keras.errors import ImageError
from fer_keras.data.image_io import read_image
from fer_keras.errors import DatasetError
from fer_keras.memory import check_fits


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
        read = read_image
    has_arrays = "image" in table.columns

    def one(position: int) -> np.ndarray:
        row = table.iloc[position]
        image = row["image"] if has_arrays and row["image"] is not None else read(row["path"])
        return resize(to_color_mode(np.asarray(image, dtype=np.uint8), color_mode), image_size)

    channels = 1 if color_mode == "grayscale" else 3
    shape = (len(table), *image_size, channels)
    check_fits(int(np.prod(shape)), f"{len(table)} images of {image_size[0]}x{image_size[1]}x{channels}",
               "lower data.image_size or use fewer images")
    images = np.empty(shape, np.uint8)  # filled in place: no list of copies beside it
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for position, image in enumerate(pool.map(one, range(len(table)))):
            images[position] = image
    return images


def decode_or_exclude(
    table: pd.DataFrame, image_size: tuple[int, int], color_mode: str, strict: bool = False, workers: int = 4
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Like :func:`load_images`, but a file that fails to decode is left out instead of stopping the run.

    Returns the images of the rows that decoded, a boolean mask of those rows, and the
    exclusion rows (path, label, reason) of the others; with ``strict`` the first failure raises.
    """
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
