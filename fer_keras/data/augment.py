"""On-the-fly augmentation of training batches with Keras layers.

``build_augmenter(config.augmentation, seed)`` returns a ``keras.Sequential`` (or ``None``
when nothing is switched on) that takes float32 batches ``(B, H, W, C)`` in 0..255 with
C = 1 or 3 and returns the same shape, dtype and range. Layers, in order:

- ``affine``: :class:`fer_keras.data.affine.RandomAffine`, ONE bilinear warp per image
  composing ``flip`` (horizontal), ``rotation`` (degrees), ``zoom`` (fraction, same on both
  axes), ``stretch`` (fraction: each axis up to ±stretch/2 more, so the aspect ratio changes by
  up to about ±stretch) and ``shift`` (fraction of the size)
- ``crop`` (fraction): ``RandomZoom`` zooming in only
- ``brightness`` / ``contrast`` (fractions): ``RandomBrightness`` / ``RandomContrast``
- ``blur`` (probability): ``RandomGaussianBlur`` on that fraction of images (5×5 kernel, sigma 0.5..1)
- ``noise`` (std in 0..1 pixel units): ``GaussianNoise`` between two ``Rescaling`` layers
- a ``ReLU(max_value=255)`` clip back to 0..255

Warps fill uncovered pixels with the nearest edge pixel. Every layer is a built-in one or
registered with Keras (``RandomAffine``), so the augmenter serialises with ``get_config`` and
``.keras`` files. Keras applies random layers only in training mode: call it with
``training=True`` (as :func:`augment_dataset` does). Every layer computes in float32 whatever
the global mixed-precision policy is.
"""

from __future__ import annotations


import keras
import tensorflow as tf

from fer_keras.config import AugmentationConfig
from fer_keras.data.affine import RandomAffine

#: How pixels uncovered by rotation, zoom and shift are filled (the legacy ImageDataGenerator's default).
FILL_MODE = "nearest"
BLUR_KERNEL_SIZE = 5
BLUR_SIGMA = (0.5, 1.0)


def is_active(config: AugmentationConfig) -> bool:
    """Whether ``config`` asks for any random transform at all."""
    amounts = (config.rotation, config.zoom, config.stretch, config.shift, config.crop, config.brightness,
               config.contrast, config.blur, config.noise)
    return config.enabled and (config.flip or any(a > 0 for a in amounts))


def build_augmenter(config: AugmentationConfig, seed: int = 0) -> keras.Sequential | None:
    """The random transforms ``config`` asks for as one Sequential, or None when there are none."""
    if not is_active(config):
        return None
    common = {"dtype": "float32"}
    seeds = iter(range(seed, seed + 100))
    layers: list[keras.layers.Layer] = []
    if config.flip or any(amount > 0 for amount in (config.rotation, config.zoom, config.stretch, config.shift)):
        layers.append(RandomAffine(config.rotation, config.zoom, config.stretch, config.shift, config.flip,
                                   seed=next(seeds), name="affine", **common))
    if config.crop > 0:  # a random crop resized back to the input size is a zoom-in
        layers.append(keras.layers.RandomZoom(
            (-config.crop, 0.0), fill_mode=FILL_MODE, seed=next(seeds), name="crop", **common))
    if config.brightness > 0:
        layers.append(keras.layers.RandomBrightness(
            config.brightness, value_range=(0, 255), seed=next(seeds), name="brightness", **common))
    if config.contrast > 0:
        layers.append(keras.layers.RandomContrast(
            config.contrast, value_range=(0, 255), seed=next(seeds), name="contrast", **common))
    if config.blur > 0:
        layers.append(keras.layers.RandomGaussianBlur(
            factor=(config.blur, config.blur), kernel_size=BLUR_KERNEL_SIZE, sigma=BLUR_SIGMA,
            value_range=(0, 255), seed=next(seeds), name="blur", **common))
    if config.noise > 0:
        layers += [
            keras.layers.Rescaling(1.0 / 255.0, name="to_unit", **common),
            keras.layers.GaussianNoise(config.noise, seed=next(seeds), name="noise", **common),
            keras.layers.Rescaling(255.0, name="to_pixels", **common),
        ]
    layers.append(keras.layers.ReLU(max_value=255.0, name="clip_0_255", **common))
    return keras.Sequential(layers, name="augmenter")


def augment_dataset(ds: tf.data.Dataset, augmenter: keras.Sequential | None, parallel: bool = True) -> tf.data.Dataset:
    """Map ``augmenter`` (training mode) over a batched ``(images, labels, …)`` dataset.

    ``parallel=False`` maps one batch at a time: slower, but the same seed then gives the same
    images (parallel calls share the layers' random state in whatever order they run).
    """
    if augmenter is None:
        return ds

    def apply(images, *rest):
        return (augmenter(tf.cast(images, tf.float32), training=True), *rest)

    return ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE if parallel else None)
