"""Training throughput: ``fit`` through the full fer_keras pipeline vs the same model on in-memory tensors.

For each model the benchmark compiles it once with fer_keras's ``compile_model`` and then
alternates ``model.fit`` calls (the call fer_keras's ``fit`` makes) on two datasets:

- **ceiling**: one fixed, already augmented batch served from a cached in-memory
  ``tf.data`` (no decode, no augmentation, no gather: the model's own speed);
- **fer_keras pipeline**: ``make_dataset`` over the decoded uint8 array with the
  ``build_augmenter`` augmentation (one RandomAffine warp per image) and ``balanced_indices``
  balancing, as a training run does.

Images/s are timed after warm-up steps inside each call (a callback stamps the step times);
the ratio pipeline / ceiling is the share of the model's speed the pipeline keeps. Decoding and
face cropping happen once before ``fit``; they are timed separately (cold and warm face-box
cache). FLOPs per image come from the TensorFlow profiler on the forward graph; a training step
is counted as 3× the forward FLOPs. With a GPU the benchmark adds mixed precision on/off and
the model-FLOP utilisation (MFU) against the GPU's peak from :data:`PEAK_TFLOPS`.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from benchmarks import Sample, gpu_names, interleaved, median, sample_table
from benchmarks.pipeline import AUGMENTATION
from fer_keras.config import ExperimentConfig, RuntimeConfig, TrainingConfig
from fer_keras.data.augment import build_augmenter
from fer_keras.data.balance import balanced_indices
from fer_keras.data.pipeline import make_dataset
from fer_keras.models import build_model
from fer_keras.training.fit import compile_model, fit

CEILING = "ceiling (in-memory batch)"
PIPELINE = "fer_keras pipeline"
#: Dense FP16/BF16 tensor-core peak, TFLOP/s, by GPU name fragment (vendor data sheets, SXM parts).
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
               "V100": 125.0, "T4": 65.0}
TRAIN_FLOPS_PER_FORWARD = 3.0


@dataclass(frozen=True)
class ModelCase:
    """One model's benchmark settings."""

    name: str
    image_size: tuple[int, int]
    color_mode: str
    batch_size: int
    warmup: int
    steps: int
    repeats: int
    xla: bool = True  # also run with XLA on (always on a GPU)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, 1 if self.color_mode == "grayscale" else 3)


#: CPU settings: small step counts so the whole benchmark ends in minutes on 2 cores. XLA is
#: off for the 224 px models: compiling and stepping them with XLA takes minutes on 2 cores.
CPU_CASES = (
    ModelCase("custom_cnn1", (48, 48), "grayscale", 32, 1, 5, 2),
    ModelCase("custom_cnn2", (48, 48), "grayscale", 32, 1, 5, 2),
    ModelCase("custom_cnn3", (48, 48), "grayscale", 32, 1, 4, 2),
    ModelCase("mobilenet_v2", (224, 224), "rgb", 16, 1, 3, 2, xla=False),
    ModelCase("vgg16_cbam", (224, 224), "rgb", 4, 1, 2, 2, xla=False),
)
#: GPU settings.
GPU_CASES = (
    ModelCase("custom_cnn1", (48, 48), "grayscale", 128, 5, 30, 3),
    ModelCase("custom_cnn2", (48, 48), "grayscale", 128, 5, 30, 3),
    ModelCase("custom_cnn3", (48, 48), "grayscale", 128, 5, 30, 3),
    ModelCase("mobilenet_v2", (224, 224), "rgb", 64, 5, 20, 3),
    ModelCase("vgg16_cbam", (224, 224), "rgb", 32, 5, 20, 3),
)


def quick(case: ModelCase) -> ModelCase:
    """The same case with the fewest steps that still time something."""
    return replace(case, warmup=1, steps=2 if case.image_size[0] <= 64 else 1, repeats=1,
                   batch_size=min(case.batch_size, 16 if case.image_size[0] <= 64 else 2))


def model_flops(model: keras.Model) -> float:
    """Forward-pass FLOPs for one image (multiply-adds count 2), from TensorFlow's graph profiler."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    function = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    graph = convert_variables_to_constants_v2(function).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options)
    return float(info.total_float_ops)


def peak_flops(gpu_name: str | None) -> float | None:
    """The GPU's dense half-precision peak in FLOP/s, or None (CPU, or a GPU not in the table)."""
    if not gpu_name:
        return None
    for fragment, tflops in PEAK_TFLOPS.items():
        if fragment.lower() in gpu_name.lower():
            return tflops * 1e12
    return None


class StepTimer(keras.callbacks.Callback):
    """Seconds from the end of the last warm-up step to the end of training."""

    def __init__(self, warmup: int):
        super().__init__()
        self.warmup = max(1, warmup)
        self.start: float | None = None
        self.seconds: float | None = None

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.warmup - 1:
            if logs and "loss" in logs:
                np.asarray(logs["loss"])  # wait for the step to finish
            self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.start


def fit_rate(model: keras.Model, dataset: tf.data.Dataset, batch_size: int, warmup: int, steps: int) -> float:
    """Training images/s of ``model.fit`` over ``steps`` steps after ``warmup`` steps."""
    timer = StepTimer(warmup)
    model.fit(dataset, epochs=1, steps_per_epoch=timer.warmup + steps, verbose=0, callbacks=[timer], shuffle=False)
    return steps * batch_size / timer.seconds


def ceiling_dataset(batch: tuple[tf.Tensor, tf.Tensor], batch_size: int) -> tf.data.Dataset:
    """One fixed batch served from memory forever (same element spec as the pipeline: batch dim None)."""
    return tf.data.Dataset.from_tensor_slices(batch).batch(batch_size).cache().repeat()


def case_datasets(case: ModelCase, sample: Sample, seed: int = 0) -> dict[str, tf.data.Dataset]:
    """The ceiling and pipeline datasets of one case."""
    indices = balanced_indices(sample.labels, AUGMENTATION.balance, seed=seed)
    augmenter = build_augmenter(AUGMENTATION, seed=seed)
    pipeline = make_dataset(sample.images, sample.labels, case.batch_size, indices=indices, shuffle=True,
                            augmenter=augmenter, seed=seed).repeat()
    batch = next(iter(pipeline))
    return {CEILING: ceiling_dataset(batch, case.batch_size), PIPELINE: pipeline}


def compiled_model(case: ModelCase, num_classes: int, jit_compile: bool, precision: str = "float32") -> keras.Model:
    """The registry model (random init) under the dtype policy ``precision``, compiled by fer_keras's
    ``compile_model``."""
    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(0)
        model = build_model(case.name, case.input_shape, num_classes)
        config = ExperimentConfig(training=TrainingConfig(batch_size=case.batch_size),
                                  runtime=RuntimeConfig(jit_compile=jit_compile))
        return compile_model(model, config)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def measure_case(case: ModelCase, sample: Sample, jit_compile: bool, mixed_precision: bool = False,
                 candidates: tuple[str, ...] = (CEILING, PIPELINE)) -> dict[str, list[float]]:
    """Images/s per candidate dataset (one value per repeat) for one model setting.

    One untimed call first takes tracing, XLA compiling and first-run allocations; every timed
    call also starts with untimed warm-up steps.
    """
    num_classes = int(sample.labels.max()) + 1
    model = compiled_model(case, num_classes, jit_compile, "mixed_float16" if mixed_precision else "float32")
    datasets = case_datasets(case, sample)
    fit_rate(model, datasets[CEILING], case.batch_size, case.warmup, 1)  # untimed: first-call costs go here
    measurements = {
        name: (lambda dataset=datasets[name]: fit_rate(model, dataset, case.batch_size, case.warmup, case.steps))
        for name in candidates
    }
    results = interleaved(measurements, case.repeats)
    del model, datasets
    keras.backend.clear_session()
    gc.collect()
    return results


def settings(gpu: bool, xla: bool = True) -> list[tuple[bool, bool]]:
    """(jit_compile, mixed_precision) pairs to run: XLA off (and on), and mixed precision off/on on a GPU."""
    jits = (False, True) if xla or gpu else (False,)
    return [(jit, mixed) for mixed in ((False, True) if gpu else (False,)) for jit in jits]


def training_throughput(samples: dict[tuple, Sample], cases: tuple[ModelCase, ...] | None = None,
                        quick_run: bool = False, xla_all: bool = False, log=print) -> dict:
    """Every case under every setting; rows with images/s, ratios, FLOPs, GFLOP/s and MFU.

    ``samples`` maps ``(image_size, color_mode)`` to decoded images; ``xla_all`` runs XLA on
    for cases that skip it on CPU.
    """
    gpus = gpu_names()
    gpu = gpus[0] if gpus else None
    cases = cases or (GPU_CASES if gpu else CPU_CASES)
    if quick_run:
        cases = tuple(quick(case) for case in cases)
    peak = peak_flops(gpu)
    rows = []
    for case in cases:
        sample = samples[(case.image_size, case.color_mode)]
        keras.utils.set_random_seed(0)
        flops = model_flops(build_model(case.name, case.input_shape, int(sample.labels.max()) + 1))
        keras.backend.clear_session()
        for jit, mixed in settings(bool(gpu), case.xla or xla_all):
            candidates = (CEILING, PIPELINE)
            start = time.perf_counter()
            results = measure_case(case, sample, jit, mixed, candidates)
            log(f"  {case.name} xla={jit} mixed={mixed}: "
                + ", ".join(f"{k} {median(v):.1f}/s" for k, v in results.items())
                + f" ({time.perf_counter() - start:.0f} s)")
            ceiling = median(results[CEILING])
            for name, values in results.items():
                rate = median(values)
                achieved = TRAIN_FLOPS_PER_FORWARD * flops * rate
                rows.append({
                    "model": case.name, "input": "x".join(map(str, case.input_shape)), "batch": case.batch_size,
                    "steps": f"{case.warmup}+{case.steps}x{case.repeats}", "xla": "on" if jit else "off",
                    "mixed_precision": "on" if mixed else "off", "dataset": name, "images_per_s": rate,
                    "vs_ceiling": rate / ceiling, "gflops_per_image": flops / 1e9,
                    "achieved_gflop_s": achieved / 1e9,
                    "mfu": achieved / peak if peak else None,
                })
    return {"gpu": gpu, "peak_flops": peak, "rows": rows}


def fit_overhead(case: ModelCase, sample: Sample, steps: int = 6, repeats: int = 2) -> dict:
    """Fixed per-epoch cost of fer_keras's ``fit`` (callbacks, checkpoint, final save) over a bare ``model.fit``.

    Both train one epoch of ``steps`` pipeline batches on the same compiled model; the difference
    of their wall times is what ``fit`` adds per epoch.
    """
    num_classes = int(sample.labels.max()) + 1
    model = compiled_model(case, num_classes, jit_compile=False)
    train = case_datasets(case, sample)[PIPELINE].take(steps)
    config = ExperimentConfig(training=TrainingConfig(batch_size=case.batch_size, epochs=1),
                              runtime=RuntimeConfig(verbose=0))
    run_dir = Path(tempfile.mkdtemp(prefix="fer_keras_bench_"))
    try:
        model.fit(train, epochs=1, verbose=0)  # trace

        def fer_keras_fit():
            start = time.perf_counter()
            fit(model, train, None, config, run_dir, fold=0, epochs=1)
            for leftover in run_dir.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            return time.perf_counter() - start

        def keras_fit():
            start = time.perf_counter()
            model.fit(train, epochs=1, verbose=0)
            return time.perf_counter() - start

        results = interleaved({"fer_keras fit()": fer_keras_fit, "keras model.fit": keras_fit}, repeats)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        keras.backend.clear_session()
    seconds = {name: median(values) for name, values in results.items()}
    return {"model": case.name, "steps": steps, "batch": case.batch_size, **seconds,
            "overhead_s": seconds["fer_keras fit()"] - seconds["keras model.fit"]}


def decode_timing(data_root: Path | None = None, image_sizes=(((48, 48), "grayscale"), ((224, 224), "rgb"))) -> list[dict]:
    """One-off cost before ``fit``: read + face-crop (cold, then warm face-box cache) + decode/resize."""
    from fer_keras.config import DataConfig, FaceCropConfig
    from fer_keras.data.faces import table as faces
    from fer_keras.data.load import load_data

    _, source, dataset, root = sample_table(data_root)
    options = {} if dataset != "synthetic" else {"n_subjects": 20, "images_per_class": 1, "image_size": 96}
    cache = Path(tempfile.mkdtemp(prefix="fer_keras_bench_cache_"))
    rows = []
    progress, faces.PROGRESS_MIN_IMAGES = faces.PROGRESS_MIN_IMAGES, 10**9  # no progress bars in the log
    try:
        for cache_state in ("cold", "warm"):
            for size, mode in image_sizes if cache_state == "warm" else image_sizes[:1]:
                data = DataConfig(dataset=dataset, root=root, options=options, image_size=size, color_mode=mode,
                                  face_crop=FaceCropConfig(enabled=True))
                start = time.perf_counter()
                loaded = load_data(data, cache_dir=cache)
                seconds = time.perf_counter() - start
                rows.append({"step": f"read + face crop ({cache_state} box cache) + decode to {size[0]}x{size[1]} {mode}",
                             "images_in": int(loaded.counts["before"].iloc[-1]), "images_kept": len(loaded.images),
                             "seconds": seconds, "images_per_s": len(loaded.images) / seconds, "source": source})
    finally:
        faces.PROGRESS_MIN_IMAGES = progress
        shutil.rmtree(cache, ignore_errors=True)
    return rows
