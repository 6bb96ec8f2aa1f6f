"""One random affine warp per image: flip, rotation, zoom, stretch and shift composed.

:class:`RandomAffine` replaces a stack of Keras ``RandomFlip`` / ``RandomRotation`` /
``RandomZoom`` / ``RandomTranslation`` layers (one full warp each) by a single per-image
output→input pixel map (:func:`affine_matrices`) and one bilinear resampling
(:func:`warp_bilinear`, an XLA-compiled gather with nearest-pixel fill that gives the pixels
of TensorFlow's ``ImageProjectiveTransformV3`` kernel, several times faster on CPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import tensorflow as tf

from fer_keras.errors import DatasetError


def affine_matrices(batch, height, width, rotation: float = 0.0, zoom: float = 0.0, stretch: float = 0.0,
                    shift: float = 0.0, flip: bool = False, uniform: Callable | None = None) -> tf.Tensor:
    """Per-image ``(B, 6)`` output→input pixel maps composing flip, rotation, zoom, stretch and shift.

    Ranges as in :class:`RandomAffine`. ``uniform(shape, low, high)`` draws the random numbers
    (default ``tf.random.uniform``), in this order: angle, zoom, x stretch, y stretch, x shift,
    y shift, flip. Row ``[a0, a1, a2, b0, b1, b2]`` maps output pixel (x, y) to input
    (a0 x + a1 y + a2, b0 x + b1 y + b2), the layout of ``ImageProjectiveTransformV3``'s first
    six coefficients and of Keras's ``RandomRotation`` matrices (centre ((W-1)/2, (H-1)/2)).
    """
    if uniform is None:
        def uniform(shape, low, high):
            return tf.random.uniform(shape, low, high)
    width, height = tf.cast(width, tf.float32), tf.cast(height, tf.float32)
    angle = uniform([batch], -1.0, 1.0) * (rotation * math.pi / 180.0)
    scale = 1.0 + uniform([batch], -zoom, zoom)
    half = stretch / 2.0
    scale_x = scale * (1.0 + uniform([batch], -half, half))
    scale_y = scale * (1.0 + uniform([batch], -half, half))
    shift_x = uniform([batch], -shift, shift) * width
    shift_y = uniform([batch], -shift, shift) * height
    mirror = tf.where(uniform([batch], 0.0, 1.0) < 0.5, -1.0, 1.0) if flip else tf.ones([batch])
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = cos * scale_x * mirror, -sin * scale_y
    b0, b1 = sin * scale_x * mirror, cos * scale_y
    centre_x, centre_y = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
    return tf.stack([a0, a1, a2, b0, b1, b2], axis=1)


@tf.function(jit_compile=True, reduce_retracing=True)
def warp_bilinear(images: tf.Tensor, matrices: tf.Tensor) -> tf.Tensor:
    """Resample float32 ``(B, H, W, C)`` images through ``(B, 6)`` affine maps: bilinear, nearest fill.

    Same pixels as ``ImageProjectiveTransformV3(..., interpolation="BILINEAR", fill_mode="NEAREST")``
    (source coordinates clamped to the image, so uncovered pixels repeat the nearest edge pixel).
    """
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    xs = tf.range(w)[None, None, :]
    ys = tf.range(h)[None, :, None]
    coefficient = [matrices[:, i][:, None, None] for i in range(6)]
    source_x = tf.clip_by_value(coefficient[0] * xs + coefficient[1] * ys + coefficient[2], 0.0, w - 1.0)
    source_y = tf.clip_by_value(coefficient[3] * xs + coefficient[4] * ys + coefficient[5], 0.0, h - 1.0)
    x0, y0 = tf.floor(source_x), tf.floor(source_y)
    weight_x, weight_y = (source_x - x0)[..., None], (source_y - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1, y1 = tf.minimum(x0 + 1, width - 1), tf.minimum(y0 + 1, height - 1)
    offset = (tf.range(batch) * height * width)[:, None, None]
    pixels = tf.reshape(images, [-1, channels])

    def at(y, x):
        return tf.gather(pixels, offset + y * width + x)

    top = at(y0, x0) * (1.0 - weight_x) + at(y0, x1) * weight_x
    bottom = at(y1, x0) * (1.0 - weight_x) + at(y1, x1) * weight_x
    return top * (1.0 - weight_y) + bottom * weight_y


@keras.saving.register_keras_serializable(package="fer_keras")
class RandomAffine(keras.layers.Layer):
    """Random horizontal flip, rotation, zoom, stretch and shift as ONE bilinear warp per image.

    ``rotation``: max degrees either way; ``zoom``: max scale change (same on both axes);
    ``stretch``: each axis scaled by up to ±stretch/2 more (aspect change up to about ±stretch);
    ``shift``: max translation, fraction of the size; ``flip``: mirror half the images.
    Each image draws its own transform; pixels uncovered are filled with the nearest edge pixel.
    Like Keras's random layers it acts only when called with ``training=True`` (identity
    otherwise). Takes and returns float32 ``(B, H, W, C)`` or ``(H, W, C)`` in any range.
    """

    def __init__(self, rotation: float = 0.0, zoom: float = 0.0, stretch: float = 0.0, shift: float = 0.0,
                 flip: bool = False, seed: int | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("zoom", zoom), ("stretch", stretch), ("shift", shift)):
            if not 0.0 <= value < 1.0:
                raise DatasetError(f"RandomAffine {name}={value} is out of range; expected a fraction in [0, 1)")
        if not 0.0 <= rotation <= 180.0:
            raise DatasetError(f"RandomAffine rotation={rotation} is out of range; expected degrees in [0, 180]")
        self.rotation, self.zoom, self.stretch, self.shift = float(rotation), float(zoom), float(stretch), float(shift)
        self.flip = bool(flip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def random_matrices(self, batch, height, width) -> tf.Tensor:
        """Draw ``(batch, 6)`` output→input maps from this layer's ranges and seed (advances the seed)."""
        def uniform(shape, low, high):
            return keras.random.uniform(shape, low, high, seed=self.seed_generator)

        return affine_matrices(batch, height, width, self.rotation, self.zoom, self.stretch, self.shift, self.flip,
                               uniform)

    def call(self, images, training=False):
        if not training:
            return images
        images = tf.cast(images, tf.float32)
        single = images.shape.rank == 3
        if single:
            images = images[None]
        shape = tf.shape(images)
        warped = warp_bilinear(images, self.random_matrices(shape[0], shape[1], shape[2]))
        return warped[0] if single else warped

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rotation=self.rotation, zoom=self.zoom, stretch=self.stretch, shift=self.shift, flip=self.flip,
                      seed=self.seed)
        return config
