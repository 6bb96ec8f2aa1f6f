"""Model zoo: every registered model's parameter count and one training epoch's time.

Each model is built from the registry (random init, ``weights=None``, the default fine-tune
mode ``full``) and compiled with fer_keras's ``compile_model`` (Adam, sparse cross-entropy,
accuracy, XLA off as the config's default). It then takes training steps with
``train_on_batch`` on random float32 batches in 0..255: the first step (tracing, graph
building, first allocations) is timed alone as the compile time; the next ``steps`` steps
give images/s. One epoch's seconds follow as ``N / images/s`` for the dataset sizes in
:data:`EPOCH_IMAGES`. A model whose first timed step takes longer than ``slow_step_s`` gets
that single timed step only, so the whole zoo fits in minutes on 2 CPU cores.

    python -m benchmarks.models --json /tmp/models.json            # every model (~40 min on 2 shared cores)
    python -m benchmarks.models --models mobilenet_v2,resnet18 --steps 3
    python -m benchmarks.models --quick                           # 32 px, two small models
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks import load_average, machine_info, markdown_table  # noqa: E402

#: Training-set sizes an epoch is priced for: JAFFE (all 213 images, the MobileNetV2 paper)
#: and KDEF's 90 % training part of 4,900 images.
EPOCH_IMAGES = {"jaffe_213": 213, "kdef_4410": 4410}
#: Models designed for 48×48 grayscale faces: also run at that input.
SMALL_INPUT_MODELS = ("custom_cnn1", "custom_cnn2", "custom_cnn3", "simple_cnn")
IMAGE_SHAPE = (224, 224, 3)
SMALL_SHAPE = (48, 48, 1)
NUM_CLASSES = 7
BATCH = 8
STEPS = 2
#: A model whose first timed step takes longer than this many seconds is timed on that step alone.
SLOW_STEP_S = 4.0
#: Models above this many parameters are counted but not trained (weights, gradients and
#: Adam's two moments would take 16 bytes per parameter on a shared machine).
MAX_TRAIN_PARAMS = 100_000_000
#: --quick: tiny input, two small models.
QUICK_MODELS = ("simple_cnn", "custom_cnn1")
QUICK_SHAPE = (32, 32, 3)


def shape_text(shape: tuple[int, int, int]) -> str:
    return "x".join(map(str, shape))


def trainable_params(model) -> int:
    """Parameters the optimizer updates."""
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


def measure_model(name: str, input_shape: tuple[int, int, int], batch: int = BATCH, steps: int = STEPS,
                  slow_step_s: float = SLOW_STEP_S, max_train_params: int = MAX_TRAIN_PARAMS, seed: int = 0) -> dict:
    """One row: parameter counts, compile time, s/step, images/s and epoch seconds of ``name`` at ``input_shape``."""
    import keras

    from fer_keras.config import ExperimentConfig, TrainingConfig
    from fer_keras.models import build_model
    from fer_keras.training.fit import compile_model

    row = {"model": name, "input": shape_text(input_shape), "batch": batch}
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    model = build_model(name, input_shape, NUM_CLASSES)
    row.update(build_s=time.perf_counter() - start, params_total=int(model.count_params()),
               params_trainable=trainable_params(model))
    try:
        if row["params_total"] > max_train_params:
            row["note"] = (f"not trained: over {max_train_params / 1e6:.0f}M parameters "
                           f"(Adam training state ≈ {16 * row['params_total'] / 2**30:.1f} GiB)")
            return row
        compile_model(model, ExperimentConfig(training=TrainingConfig(batch_size=batch)))
        rng = np.random.default_rng(seed)
        images = rng.uniform(0, 255, (batch, *input_shape)).astype(np.float32)
        labels = rng.integers(0, NUM_CLASSES, batch).astype(np.int32)
        start = time.perf_counter()
        model.train_on_batch(images, labels)  # returns numpy values, so the step has finished
        row["compile_s"] = time.perf_counter() - start
        times = []
        for _ in range(max(1, steps)):
            start = time.perf_counter()
            model.train_on_batch(images, labels)
            times.append(time.perf_counter() - start)
            if times[0] > slow_step_s:
                break
        row["steps"] = len(times)
        row["s_per_step"] = float(np.mean(times))
        row["images_per_s"] = batch * len(times) / float(np.sum(times))
        for key, count in EPOCH_IMAGES.items():
            row[f"epoch_s_{key}"] = count / row["images_per_s"]
        return row
    finally:
        del model
        keras.backend.clear_session()
        gc.collect()


def model_cases(models: list[str] | None = None, quick: bool = False) -> list[tuple[str, tuple[int, int, int]]]:
    """(model, input shape) pairs: every model at 224×224×3, the 48 px models also at 48×48×1."""
    from fer_keras.models import model_names

    if quick:
        return [(name, QUICK_SHAPE) for name in (models or QUICK_MODELS)]
    cases = []
    for name in models or model_names():
        if name in SMALL_INPUT_MODELS:
            cases.append((name, SMALL_SHAPE))
        cases.append((name, IMAGE_SHAPE))
    return cases


def model_zoo(models: list[str] | None = None, quick: bool = False, batch: int = BATCH, steps: int = STEPS,
              slow_step_s: float = SLOW_STEP_S, max_train_params: int = MAX_TRAIN_PARAMS, log=print) -> dict:
    """Every case's row, with the settings and the load average before and after."""
    result = {"batch": batch, "steps": steps, "slow_step_s": slow_step_s, "max_train_params": max_train_params,
              "quick": quick, "epoch_images": EPOCH_IMAGES, "load_start": load_average(), "rows": []}
    start = time.perf_counter()
    for name, shape in model_cases(models, quick):
        try:
            row = measure_model(name, shape, batch, steps, slow_step_s, max_train_params)
        except Exception as error:  # one model failing must not lose the others' numbers
            row = {"model": name, "input": shape_text(shape), "batch": batch,
                   "note": f"failed: {type(error).__name__}: {' '.join(str(error).split())[:160]}"}
        result["rows"].append(row)
        log(f"  {name} {row['input']}: {row.get('params_total', 0):,} params, "
            + (f"{row['images_per_s']:.1f} images/s" if "images_per_s" in row else row.get("note", "")))
    result["seconds"] = time.perf_counter() - start
    result["load_end"] = load_average()
    return result


COLUMNS = ["model", "input", "params_total", "params_trainable", "compile_s", "steps", "s_per_step", "images_per_s",
           "epoch_s_jaffe_213", "epoch_s_kdef_4410", "note"]


def models_section(result: dict) -> tuple[str, list[str]]:
    """The report section (Markdown) and its summary lines."""
    rows = [{**row, "params_total": f"{row['params_total']:,}" if "params_total" in row else None,
             "params_trainable": f"{row['params_trainable']:,}" if "params_trainable" in row else None}
            for row in result["rows"]]
    lines = ["## 4. Model zoo: parameters and one training epoch on CPU\n",
             f"Every registered model built with random init (`weights=None`, fine-tune mode `full`) and "
             f"{NUM_CLASSES} classes, compiled by fer_keras's `compile_model` (Adam, XLA off), trained with "
             f"`train_on_batch` on random float32 batches of {result['batch']} in 0..255. `compile_s` is the "
             f"first step alone (tracing + first run); then up to {result['steps']} timed steps (one when the "
             f"first took over {result['slow_step_s']:g} s). Epoch seconds = images ÷ images/s for JAFFE "
             f"(213 images, the MobileNetV2 paper) and KDEF's 90 % training part (4,410 of 4,900); they leave out "
             f"the input pipeline and validation. One or two steps per model on a shared CPU: `vgg16`, "
             f"`vgg16_base` and `vgg16_attention` (its default, no attention) compute the same network (`vgg16` "
             f"adds no head dropout), so their gap shows the noise. The 48 px models also run at 224×224×3, "
             f"where their dense heads grow. Load average (1, 5, 15 min) {result['load_start']} at the start, "
             f"{result['load_end']} at the end; {result['seconds'] / 60:.1f} minutes in all.\n",
             markdown_table(rows, COLUMNS)]
    timed = [row for row in result["rows"] if "images_per_s" in row and row["input"] == shape_text(IMAGE_SHAPE)]
    summary = []
    if timed:
        fastest = max(timed, key=lambda row: row["images_per_s"])
        slowest = min(timed, key=lambda row: row["images_per_s"])
        summary.append(
            f"Model zoo at 224×224×3 on CPU (batch {result['batch']}): one KDEF epoch (4,410 images) from "
            f"{fastest['epoch_s_kdef_4410']:,.0f} s ({fastest['model']}) to {slowest['epoch_s_kdef_4410']:,.0f} s "
            f"({slowest['model']}); {len(result['rows'])} rows in section 4.")
    return "\n".join(lines), summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Parameters and one training epoch's time of every registered model.")
    parser.add_argument("--models", default=None, help="comma-separated model names (default: every registered model)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"batch size (default {BATCH})")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"timed steps after the warm-up step (default {STEPS})")
    parser.add_argument("--slow-step-s", type=float, default=SLOW_STEP_S,
                        help=f"time one step only when the first timed step takes longer (default {SLOW_STEP_S:g} s)")
    parser.add_argument("--max-train-params", type=int, default=MAX_TRAIN_PARAMS,
                        help=f"count but do not train larger models (default {MAX_TRAIN_PARAMS:,})")
    parser.add_argument("--quick", action="store_true", help=f"{shape_text(QUICK_SHAPE)} input, {', '.join(QUICK_MODELS)}")
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the report section here")
    args = parser.parse_args(argv)
    models = [name.strip() for name in args.models.split(",") if name.strip()] if args.models else None
    result = model_zoo(models, args.quick, args.batch, args.steps, args.slow_step_s, args.max_train_params)
    result["machine"] = machine_info()
    result["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    text, _ = models_section(result)
    if args.markdown:
        args.markdown.write_text(text)
    print(text)
    return result


if __name__ == "__main__":
    main()
