"""Input-pipeline throughput: the fer_keras tf.data augment + balance pipeline vs the legacy Keras generator.

Both produce the same number of augmented, class-balanced training batches of one batch size
from the same in-memory uint8 images, with the same random transforms: rotation, stretch
(independent x/y scale), zoom, shift and horizontal flip, bilinear, nearest-pixel fill.

- **legacy**: ``ImageDataGenerator(...).flow()`` on the balanced copy of the array (the
  private ``keras.src.legacy`` path, the only one left in Keras 3; see shared/STACK.md).
- **fer_keras**: :func:`fer_keras.data.pipeline.make_dataset` with
  :func:`fer_keras.data.augment.build_augmenter` and
  :func:`fer_keras.data.balance.balanced_indices`, exactly as a training run builds them.

Profile rows (variants built here, not in fer_keras) show where the time goes and what a
cheap change to ``augment.py`` gains: gathering batches with no augmentation (the pipeline's
own ceiling); one composed affine warp per image instead of one warp per Keras layer, first
with TensorFlow's ``ImageProjectiveTransformV3`` kernel, then as an XLA-compiled bilinear
gather (:class:`RandomAffine`); and that layer applied to 256-image chunks then rebatched
(only when a repeat draws at least four chunks).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from benchmarks import Sample, interleaved, median
from fer_keras.config import AugmentationConfig
from fer_keras.data.augment import FILL_MODE, build_augmenter
from fer_keras.data.balance import balanced_indices
from fer_keras.data.pipeline import make_dataset

#: The transforms both pipelines apply (a typical FER setting).
AUGMENTATION = AugmentationConfig(
    enabled=True, rotation=10.0, zoom=0.1, stretch=0.1, shift=0.1, flip=True, balance="per_class",
)
LEGACY = "legacy ImageDataGenerator.flow"
AS_IS = "fer_keras make_dataset (as committed)"
AS_IS_DETERMINISTIC = "fer_keras make_dataset, deterministic=True"
NO_AUGMENT = "profile: gather + cast only, no augmentation"
ONE_WARP_TF = "variant: one composed warp (TF ImageProjectiveTransformV3)"
ONE_WARP_XLA = "variant: RandomAffine (one composed warp, XLA bilinear gather)"
ONE_WARP_XLA_CHUNKS = "variant: RandomAffine on 256-image chunks, rebatched"
CHUNK = 256


def legacy_generator(config: AugmentationConfig = AUGMENTATION):
    """The legacy generator doing ``config``'s transforms.

    Its ``zoom_range`` draws the x and y scales independently, so zoom ± stretch/2 covers
    both fer_keras's zoom and its stretch.
    """
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(
        rotation_range=config.rotation,
        zoom_range=config.zoom + config.stretch / 2.0,
        width_shift_range=config.shift,
        height_shift_range=config.shift,
        horizontal_flip=config.flip,
        fill_mode=FILL_MODE,
    )


def affine_matrices(batch: tf.Tensor, height: tf.Tensor, width: tf.Tensor, config: AugmentationConfig,
                    uniform: Callable) -> tf.Tensor:
    """Per-image ``(B, 6)`` output→input pixel maps composing flip, rotation, zoom, stretch and shift.

    ``uniform(shape, low, high)`` draws the random numbers. Row ``[a0, a1, a2, b0, b1, b2]``
    maps output pixel (x, y) to input (a0 x + a1 y + a2, b0 x + b1 y + b2), the layout of
    ``ImageProjectiveTransformV3``'s first six coefficients.
    """
    angle = uniform([batch], -1.0, 1.0) * (config.rotation * math.pi / 180.0)
    zoom = 1.0 + uniform([batch], -config.zoom, config.zoom)
    half = config.stretch / 2.0
    scale_x = zoom * (1.0 + uniform([batch], -half, half))
    scale_y = zoom * (1.0 + uniform([batch], -half, half))
    shift_x = uniform([batch], -config.shift, config.shift) * width
    shift_y = uniform([batch], -config.shift, config.shift) * height
    flip = tf.where(uniform([batch], 0.0, 1.0) < 0.5, -1.0, 1.0) if config.flip else tf.ones([batch])
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = cos * scale_x * flip, -sin * scale_y
    b0, b1 = sin * scale_x * flip, cos * scale_y
    centre_x, centre_y = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
    b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
    return tf.stack([a0, a1, a2, b0, b1, b2], axis=1)


@tf.function(jit_compile=True)
def warp_bilinear(images: tf.Tensor, matrices: tf.Tensor) -> tf.Tensor:
    """Resample float ``(B, H, W, C)`` images through ``(B, 6)`` affine maps, bilinear, nearest fill.

    Gives the same pixels as ``ImageProjectiveTransformV3(..., "BILINEAR", fill_mode="NEAREST")``;
    compiled by XLA into one fused loop, it runs several times faster on CPU than that kernel.
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


class RandomAffine(keras.layers.Layer):
    """Flip, rotation, zoom, stretch and shift as ONE bilinear warp per image (the proposed augment.py layer).

    Same ranges and meaning as ``build_augmenter``'s separate layers; active only with
    ``training=True``; float32 in 0..255 in and out. ``xla=False`` warps with TensorFlow's
    ``ImageProjectiveTransformV3`` kernel instead of :func:`warp_bilinear`.
    """

    def __init__(self, rotation=0.0, zoom=0.0, stretch=0.0, shift=0.0, flip=False, xla=True, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.config = AugmentationConfig(enabled=True, rotation=rotation, zoom=zoom, stretch=stretch, shift=shift,
                                         flip=flip)
        self.xla = xla
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        images = tf.cast(images, tf.float32)
        shape = tf.shape(images)

        def uniform(size, low, high):
            return keras.random.uniform(size, low, high, seed=self.seed_generator)

        matrices = affine_matrices(shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32),
                                   self.config, uniform)
        if self.xla:
            return warp_bilinear(images, matrices)
        transforms = tf.concat([matrices, tf.zeros([shape[0], 2])], axis=1)
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
            interpolation="BILINEAR", fill_mode="NEAREST",
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        augmentation = self.config
        config.update(rotation=augmentation.rotation, zoom=augmentation.zoom, stretch=augmentation.stretch,
                      shift=augmentation.shift, flip=augmentation.flip, xla=self.xla, seed=self.seed)
        return config


def random_affine(config: AugmentationConfig = AUGMENTATION, xla: bool = True, seed: int = 0) -> RandomAffine:
    """The :class:`RandomAffine` equivalent of ``config``'s geometric transforms."""
    return RandomAffine(config.rotation, config.zoom, config.stretch, config.shift, config.flip, xla=xla, seed=seed)


def warp_difference(size: tuple[int, int, int] = (48, 48, 1), batch: int = 8, seed: int = 0) -> float:
    """Largest pixel difference between :func:`warp_bilinear` and TF's kernel on the same random maps."""
    generator = tf.random.Generator.from_seed(seed)
    images = generator.uniform([batch, *size], 0.0, 255.0)
    matrices = affine_matrices(batch, float(size[0]), float(size[1]), AUGMENTATION,
                               lambda shape, low, high: generator.uniform(shape, low, high))
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tf.concat([matrices, tf.zeros([batch, 2])], axis=1), output_shape=size[:2],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST",
    )
    return float(tf.reduce_max(tf.abs(warp_bilinear(images, matrices) - reference)))


def variant_dataset(images: np.ndarray, labels: np.ndarray, indices: np.ndarray, batch_size: int,
                    augment: Callable | None, chunk: int | None = None, seed: int = 0) -> tf.data.Dataset:
    """make_dataset's structure (shuffled index batches → gather → augment → prefetch) with another augment step.

    ``chunk`` augments ``chunk`` images per call and rebatches to ``batch_size`` afterwards.
    """
    pixels = tf.convert_to_tensor(images)
    label_ids = tf.convert_to_tensor(np.asarray(labels, np.int32))
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(indices, np.int64))
    dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True).batch(chunk or batch_size)
    dataset = dataset.map(lambda rows: (tf.cast(tf.gather(pixels, rows), tf.float32), tf.gather(label_ids, rows)),
                          num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        dataset = dataset.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    if chunk:
        dataset = dataset.rebatch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def dataset_rate(make: Callable[[], tf.data.Dataset], count: int, warmup_batches: int = 2,
                 min_seconds: float = 0.0) -> Callable[[], float]:
    """A measurement: images/s of a fresh iterator over ``make()`` for ``count`` images (and at least
    ``min_seconds``) after warm-up."""
    dataset = make().repeat()

    def measure() -> float:
        iterator = iter(dataset)
        for _ in range(warmup_batches):
            next(iterator)
        seen, start = 0, time.perf_counter()
        while seen < count or time.perf_counter() - start < min_seconds:
            seen += int(next(iterator)[0].shape[0])
        rate = seen / (time.perf_counter() - start)
        del iterator
        gc.collect()
        return rate

    return measure


def legacy_rate(images: np.ndarray, labels: np.ndarray, indices: np.ndarray, batch_size: int, count: int,
                seed: int = 0) -> Callable[[], float]:
    """A measurement: images/s of the legacy generator's ``.flow()`` on the balanced array."""
    generator = legacy_generator()
    balanced_images = images[indices].astype(np.float32)
    balanced_labels = labels[indices]

    def measure() -> float:
        flow = generator.flow(balanced_images, balanced_labels, batch_size=batch_size, shuffle=True, seed=seed)
        next(flow)
        seen, start = 0, time.perf_counter()
        while seen < count:
            seen += len(next(flow)[0])
        return seen / (time.perf_counter() - start)

    return measure


def pipeline_throughput(sample: Sample, batch_size: int = 32, images_per_repeat: int = 4096,
                        legacy_images: int | None = None, repeats: int = 3, profile: bool = True,
                        min_seconds: float = 0.0) -> dict:
    """Images/s of every pipeline on ``sample`` (alternating repeats, medians) and ratios to the legacy one.

    ``legacy_images`` (default ``images_per_repeat``) lets the slow legacy generator time fewer
    images per repeat; rates are per image either way. Each tf.data measurement also runs for
    at least ``min_seconds``. Returns
    ``{"image_shape", "batch_size", "images", "legacy_images", "balanced_epoch", "source",
    "rows": [{pipeline, images_per_s, vs_legacy, repeats}]}``.
    """
    images, labels = sample.images, sample.labels
    indices = balanced_indices(labels, AUGMENTATION.balance, seed=0)
    augmenter = build_augmenter(AUGMENTATION, seed=0)

    def rate(make: Callable[[], tf.data.Dataset]) -> Callable[[], float]:
        return dataset_rate(make, images_per_repeat, min_seconds=min_seconds)

    candidates = {
        LEGACY: legacy_rate(images, labels, indices, batch_size, legacy_images or images_per_repeat),
        AS_IS: rate(lambda: make_dataset(images, labels, batch_size, indices=indices, shuffle=True,
                                         augmenter=augmenter)),
    }
    if profile:
        candidates[AS_IS_DETERMINISTIC] = rate(lambda: make_dataset(
            images, labels, batch_size, indices=indices, shuffle=True, augmenter=augmenter, deterministic=True))
        candidates[NO_AUGMENT] = rate(lambda: variant_dataset(images, labels, indices, batch_size, None))
        candidates[ONE_WARP_TF] = rate(lambda: variant_dataset(images, labels, indices, batch_size,
                                                               random_affine(xla=False)))
    candidates[ONE_WARP_XLA] = rate(lambda: variant_dataset(images, labels, indices, batch_size, random_affine()))
    if profile and images_per_repeat >= 4 * CHUNK:
        candidates[ONE_WARP_XLA_CHUNKS] = rate(lambda: variant_dataset(images, labels, indices, batch_size,
                                                                       random_affine(), chunk=CHUNK))
    results = interleaved(candidates, repeats)
    legacy = median(results[LEGACY])
    rows = [
        {"pipeline": name, "images_per_s": median(values), "vs_legacy": median(values) / legacy,
         "repeats": ", ".join(f"{v:,.0f}" for v in values)}
        for name, values in results.items()
    ]
    return {
        "image_shape": "x".join(map(str, images.shape[1:])),
        "batch_size": batch_size,
        "images": images_per_repeat,
        "legacy_images": legacy_images or images_per_repeat,
        "balanced_epoch": len(indices),
        "source": sample.source,
        "rows": rows,
    }
