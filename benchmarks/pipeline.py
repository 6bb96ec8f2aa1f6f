"""Input-pipeline throughput: the fer_keras tf.data augment + balance pipeline vs the legacy Keras generator.

Both produce the same number of augmented, class-balanced training batches of one batch size
from the same in-memory uint8 images, with the same random transforms: rotation, stretch
(independent x/y scale), zoom, shift and horizontal flip, bilinear, nearest-pixel fill.

- **legacy**: ``ImageDataGenerator(...).flow()`` on the balanced copy of the array (the
  private ``keras.src.legacy`` path, the only one left in Keras 3; see shared/STACK.md).
- **fer_keras**: :func:`fer_keras.data.pipeline.make_dataset` with
  :func:`fer_keras.data.augment.build_augmenter` and
  :func:`fer_keras.data.balance.balanced_indices`, exactly as a training run builds them
  (one :class:`~fer_keras.data.affine.RandomAffine` warp per image, on chunks of small
  images that are then rebatched).

Profile rows (``make_dataset`` per batch with other augmenters built here) show where the time goes: gathering
batches with no augmentation (the pipeline's own ceiling); the previous augmenter (one Keras
warp layer per transform); RandomAffine's composed maps warped by TensorFlow's
``ImageProjectiveTransformV3`` kernel instead of the XLA gather; and the shipped augmenter
called once per batch instead of on chunks.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from benchmarks import Sample, interleaved, median
from fer_keras.config import AugmentationConfig
from fer_keras.data.affine import RandomAffine, affine_matrices, warp_bilinear
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
KERAS_LAYERS = "profile: previous augmenter, one Keras warp layer per transform"
ONE_WARP_TF = "profile: RandomAffine maps warped by TF ImageProjectiveTransformV3"
ONE_WARP_XLA = "variant: make_dataset, augmenter per batch (no chunks)"


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


def keras_layers_augmenter(config: AugmentationConfig = AUGMENTATION, seed: int = 0) -> keras.Sequential:
    """The augmenter fer_keras shipped before RandomAffine: one Keras warp layer per transform, then the clip."""
    common = {"dtype": "float32", "fill_mode": FILL_MODE}
    half = config.stretch / 2.0
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed, dtype="float32"),
        keras.layers.RandomRotation(config.rotation / 360.0, seed=seed + 1, **common),
        keras.layers.RandomZoom((-config.zoom, config.zoom), seed=seed + 2, **common),
        keras.layers.RandomZoom((-half, half), (-half, half), seed=seed + 3, **common),
        keras.layers.RandomTranslation(config.shift, config.shift, seed=seed + 4, **common),
        keras.layers.ReLU(max_value=255.0, dtype="float32"),
    ])


def random_affine(config: AugmentationConfig = AUGMENTATION, seed: int = 0) -> RandomAffine:
    """fer_keras's :class:`RandomAffine` doing ``config``'s geometric transforms."""
    return RandomAffine(config.rotation, config.zoom, config.stretch, config.shift, config.flip, seed=seed)


def tf_kernel_warp(images: tf.Tensor, matrices: tf.Tensor) -> tf.Tensor:
    """``images`` resampled through ``(B, 6)`` affine maps by TF's ``ImageProjectiveTransformV3`` (bilinear, nearest fill)."""
    shape = tf.shape(images)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tf.concat([matrices, tf.zeros([shape[0], 2])], axis=1),
        output_shape=shape[1:3], fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST",
    )


def tf_kernel_affine(config: AugmentationConfig = AUGMENTATION, seed: int = 0) -> Callable:
    """RandomAffine's composed maps warped by TF's ``ImageProjectiveTransformV3`` kernel (an augment callable)."""
    layer = random_affine(config, seed)

    def augment(images, training=True):
        shape = tf.shape(images)
        return tf_kernel_warp(images, layer.random_matrices(shape[0], shape[1], shape[2]))

    return augment


def warp_difference(size: tuple[int, int, int] = (48, 48, 1), batch: int = 8, seed: int = 0) -> float:
    """Largest pixel difference between :func:`warp_bilinear` and TF's kernel on the same random maps."""
    generator = tf.random.Generator.from_seed(seed)
    images = generator.uniform([batch, *size], 0.0, 255.0)
    config = AUGMENTATION
    matrices = affine_matrices(batch, size[0], size[1], config.rotation, config.zoom, config.stretch, config.shift,
                               config.flip, lambda shape, low, high: generator.uniform(shape, low, high))
    return float(tf.reduce_max(tf.abs(warp_bilinear(images, matrices) - tf_kernel_warp(images, matrices))))


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
        for name, other in ((NO_AUGMENT, None), (KERAS_LAYERS, keras_layers_augmenter()),
                            (ONE_WARP_TF, tf_kernel_affine())):
            candidates[name] = rate(lambda other=other: make_dataset(
                images, labels, batch_size, indices=indices, shuffle=True, augmenter=other, augment_chunk=batch_size))
    candidates[ONE_WARP_XLA] = rate(lambda: make_dataset(images, labels, batch_size, indices=indices, shuffle=True,
                                                         augmenter=augmenter, augment_chunk=batch_size))
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
