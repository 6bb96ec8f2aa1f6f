"""Run the fer_keras benchmarks and write ``reports/benchmarks_run.md``.

    python benchmarks/run.py                   # pipeline, throughput, latency (about 10 minutes on 2 CPU cores)
    python benchmarks/run.py --zoo-json /tmp/models.json   # + section 4 from a zoo run saved earlier
    python benchmarks/run.py --quick           # a fast pass with tiny counts (numbers are rough)
    python benchmarks/run.py --only pipeline,latency --out /tmp/bench.md

Benchmarks: ``pipeline`` (tf.data vs legacy ImageDataGenerator), ``throughput`` (training
images/s through the pipeline vs the in-memory ceiling, XLA on/off, FLOPs, and on a GPU mixed
precision on/off and MFU), ``latency`` (one-image predict, fer_keras vs the ``fer`` package;
run in fresh subprocesses, once with TensorFlow's default threads and once with one thread), ``zoo``
(every registered model's parameters and one training epoch's time at 224 px, in a fresh
subprocess, about 40 minutes on 2 shared cores, mostly graph compiling, so it runs only when asked:
``--only ...,zoo``, or ``--zoo-json`` to include the JSON of an earlier ``python -m benchmarks.models`` run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")

from benchmarks import (  # noqa: E402
    REPO, gpu_names, load_average, load_sample, machine_info, markdown_table, subsample,
)

BENCHMARKS = ("pipeline", "throughput", "latency", "zoo")
#: What a plain run measures: the zoo takes ~40 minutes on a CPU and is opt-in.
DEFAULT_BENCHMARKS = ("pipeline", "throughput", "latency")
DEFAULT_OUT = REPO / "reports" / "benchmarks_run.md"
PIPELINE_TARGET = 10.0
THROUGHPUT_TARGET = 0.90

#: (image_size, color_mode, batch, at most N source images, tf.data images, legacy images, repeats)
#: per pipeline case; then --quick's. At 224 px the legacy generator's float32 balanced copy of
#: all of CK+48 would take 1 GB, so that case uses every 5th image. Five repeats, and at 224 px
#: 128 legacy images a repeat (about 1.5 s): with three repeats of 64 the legacy rate spread
#: 71-144 images/s on this shared machine and moved the ratio by half.
PIPELINE_CASES = (((48, 48), "grayscale", 32, 100_000, 4096, 1024, 5), ((224, 224), "rgb", 16, 200, 192, 128, 5))
PIPELINE_CASES_QUICK = (((48, 48), "grayscale", 32, 100_000, 512, 128, 1), ((224, 224), "rgb", 16, 200, 32, 16, 1))
#: Models the --quick pass trains (unless --models names others).
QUICK_MODELS = ("custom_cnn2",)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_pipeline(quick: bool, data_root: Path | None) -> list[dict]:
    from benchmarks.pipeline import pipeline_throughput, warp_difference

    results = []
    for size, mode, batch, limit, count, legacy_count, repeats in PIPELINE_CASES_QUICK if quick else PIPELINE_CASES:
        sample = subsample(load_sample(size, mode, data_root), limit)
        start = time.perf_counter()
        result = pipeline_throughput(sample, batch, count, legacy_count, repeats, min_seconds=0.0 if quick else 0.5)
        result["min_seconds"] = 0.0 if quick else 0.5
        result["warp_difference"] = warp_difference((*size, 1 if mode == "grayscale" else 3))
        result["seconds"] = time.perf_counter() - start
        log(f"pipeline {result['image_shape']}: " + ", ".join(
            f"{row['pipeline'].split(':')[-1].strip()} {row['vs_legacy']:.1f}x" for row in result["rows"]))
        results.append(result)
    return results


def run_throughput(quick: bool, data_root: Path | None, models: list[str] | None, xla_all: bool = False) -> dict:
    from benchmarks.throughput import CPU_CASES, GPU_CASES, decode_timing, fit_overhead, training_throughput

    cases = GPU_CASES if gpu_names() else CPU_CASES
    models = models or (list(QUICK_MODELS) if quick else None)
    if models:
        cases = tuple(case for case in cases if case.name in models)
    start = time.perf_counter()
    decode = decode_timing(data_root, (((48, 48), "grayscale"),) if quick else (((48, 48), "grayscale"), ((224, 224), "rgb")))
    log(f"decode + face crop timed ({time.perf_counter() - start:.0f} s)")
    samples = {(c.image_size, c.color_mode): None for c in cases}
    samples = {key: load_sample(key[0], key[1], data_root) for key in samples}
    result = training_throughput(samples, cases, quick_run=quick, xla_all=xla_all, log=log)
    overhead = None
    small = [case for case in cases if case.name == "custom_cnn2"]
    if small:
        overhead = fit_overhead(small[0], samples[(small[0].image_size, small[0].color_mode)],
                                steps=3 if quick else 6, repeats=1 if quick else 2)
        log(f"fit() overhead {overhead['overhead_s']:.2f} s per epoch")
    result.update(decode=decode, fit_overhead=overhead, seconds=time.perf_counter() - start)
    return result


#: The camera frame size of the third latency pass (a face centred in it).
CAMERA_FRAME = "640x480"


def run_latency(quick: bool, data_root: Path | None) -> list[dict]:
    """The latency benchmark in fresh subprocesses: default TF threads (with stages), one thread, camera frames."""
    results = []
    for threads, stages, frame in ((0, True, None), (1, False, None), (0, False, CAMERA_FRAME)):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "latency.json"
            command = [sys.executable, "-m", "benchmarks.latency", "--json", str(out), "--tf-threads", str(threads),
                       "--count", "6" if quick else "30", "--repeats", "1" if quick else "3"]
            command += [] if stages else ["--no-stages"]
            command += ["--frame", frame] if frame else []
            command += ["--data-root", str(data_root)] if data_root else []
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
            if done.returncode != 0 or not out.exists():
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                results.append({"error": f"latency subprocess failed: {tail[0]}", "tf_threads": threads})
                continue
            result = json.loads(out.read_text())
            result["seconds"] = time.perf_counter() - start
            results.append(result)
            log(f"latency ({result['tf_threads']}): " + ", ".join(
                f"{row['method']} {row['median_ms']:.0f} ms" for row in result["rows"]))
    return results


def run_zoo(quick: bool) -> dict:
    """The model-zoo benchmark (benchmarks/models.py) in a fresh subprocess, so every model's memory is freed."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "models.json"
        command = [sys.executable, "-m", "benchmarks.models", "--json", str(out)] + (["--quick"] if quick else [])
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            log(f"model zoo failed: {tail[0]}")
            return {}
        result = json.loads(out.read_text())
    log(f"model zoo: {len(result['rows'])} rows ({result['seconds'] / 60:.1f} min)")
    return result


def zoo_section(result: dict) -> tuple[str, list[str]]:
    from benchmarks.models import models_section

    return models_section(result)


def _verdict(value: float, target: float) -> str:
    return "**met**" if value >= target else "**missed**"


def _pick(rows: list[dict], key: str, value: str) -> dict | None:
    return next((row for row in rows if row[key] == value), None)


def pipeline_section(results: list[dict]) -> tuple[str, list[str]]:
    from benchmarks.pipeline import AS_IS, KERAS_LAYERS

    lines, summary = ["## 1. Input pipeline: tf.data augment + balance vs legacy ImageDataGenerator\n"], []
    lines.append(
        "Same in-memory uint8 images, same batch size, same transforms (rotation ±10°, zoom ±10 %, stretch ±5 % per "
        "axis, shift ±10 %, horizontal flip, bilinear, nearest fill) and per-class balancing (every class up to the "
        "largest, by repeated indices; the legacy generator gets the balanced copy of the array). Rates are medians "
        "of alternating repeats; `repeats` lists each repeat's images/s.\n")
    for result in results:
        lines.append(f"### {result['image_shape']}, batch {result['batch_size']}\n")
        lines.append(f"{result['source']}; balanced epoch {result['balanced_epoch']} images; "
                     f"{result['images']} images per tf.data repeat (at least {result.get('min_seconds', 0)} s), "
                     f"{result['legacy_images']} per "
                     f"legacy repeat; {result['seconds']:.0f} s in all.\n")
        lines.append(markdown_table(result["rows"], ["pipeline", "images_per_s", "vs_legacy", "repeats"]))
        lines.append(f"RandomAffine's XLA warp vs TF's `ImageProjectiveTransformV3` on the same random maps: largest "
                     f"pixel difference {result['warp_difference']:.4f} grey levels (0..255 scale).\n")
        as_is, before = _pick(result["rows"], "pipeline", AS_IS), _pick(result["rows"], "pipeline", KERAS_LAYERS)
        summary.append(
            f"Input pipeline {result['image_shape']} (batch {result['batch_size']}): fer_keras as committed "
            f"**{as_is['vs_legacy']:.1f}×** the legacy generator ({as_is['images_per_s']:,.0f} vs "
            f"{as_is['images_per_s'] / as_is['vs_legacy']:,.0f} images/s), target ≥ {PIPELINE_TARGET:.0f}× "
            f"{_verdict(as_is['vs_legacy'], PIPELINE_TARGET)}"
            + (f" (the previous augmenter, one Keras layer per transform: **{before['vs_legacy']:.1f}×**)."
               if before else "."))
    lines.append(PIPELINE_NOTES)
    return "\n".join(lines), summary


PIPELINE_NOTES = """
**Where the time went, and what changed.** Gathering and casting batches alone (no
augmentation) is far faster than any augmenting pipeline, so the cost is the augmentation.
The first `build_augmenter` stacked RandomRotation, RandomZoom (zoom), RandomZoom (stretch)
and RandomTranslation: four full bilinear warps per image through TensorFlow's
`ImageProjectiveTransformV3` CPU kernel (tens of ns per pixel), each tf.data map call on one
thread; that is the "previous augmenter" row, barely faster than the legacy generator. Now
`fer_keras.data.affine.RandomAffine` composes flip, rotation, zoom, stretch and shift into one
matrix per image and warps once with an XLA-compiled bilinear gather (same pixels as the TF
kernel, see the difference line above), and `make_dataset` augments small images in chunks of
256 before rebatching, which spreads tf.data's per-call cost (the "per batch (no chunks)" row
is the same augmenter without chunks). At 224×224 a chunk is one batch, so there the "as
committed" and "per batch (no chunks)" rows run the same pipeline: their gap is the noise of
this measurement on a shared machine (10.2× vs 12.9× in the run of 2026-11-30 09:51; 11.9×,
7.8× and 13.4× for the committed row in the three runs before it). Under load the ratio
drops: the legacy generator is single-threaded NumPy, while tf.data wants both cores.
"""


def throughput_section(result: dict) -> tuple[str, list[str]]:
    from benchmarks.throughput import PIPELINE

    rows, summary = result["rows"], []
    lines = ["## 2. Training throughput: fer_keras pipeline vs the in-memory ceiling\n"]
    lines.append(
        "`model.fit` (the call fer_keras's `fit` makes) on a model compiled by fer_keras's `compile_model` (Adam, "
        "sparse cross-entropy, accuracy), random init (`weights=None`). **ceiling**: one fixed augmented batch "
        "served from memory; **fer_keras pipeline**: `make_dataset` + `build_augmenter` + `balanced_indices` as a "
        "run builds them (one RandomAffine warp per image). `steps` = warm-up + "
        "timed steps × repeats (alternating datasets); a training step counts 3× the forward FLOPs. "
        "On a CPU the 224 px models run with XLA off only: compiling and "
        "stepping them with XLA took minutes per model on 2 cores in a trial (`--xla-all` includes them).\n")
    lines.append("### One-off cost before fit: read, face crop, decode\n")
    lines.append(markdown_table(result["decode"], ["step", "images_in", "images_kept", "seconds", "images_per_s"]))
    lines.append(f"Source: {result['decode'][0]['source']}. The face-box cache makes every later run skip detection.\n")
    lines.append("### Training images/s\n")
    columns = ["model", "input", "batch", "steps", "xla", "mixed_precision", "dataset", "images_per_s", "vs_ceiling",
               "gflops_per_image", "achieved_gflop_s", "mfu"]
    lines.append(markdown_table(rows, columns))
    if result["gpu"] is None:
        lines.append("`mfu` stays empty: no GPU in this run (MFU needs a GPU peak; see the GPU section). "
                     "`gflops_per_image` is the forward pass; `achieved_gflop_s` = 3 × that × images/s.\n")
    elif result["peak_flops"] is None:
        lines.append(f"`mfu` is empty: {result['gpu']} is not in the peak table (benchmarks/throughput.py).\n")
    else:
        lines.append(f"MFU against {result['gpu']}'s dense FP16/BF16 peak of {result['peak_flops'] / 1e12:,.0f} "
                     "TFLOP/s (model FLOPs = 3 × forward FLOPs per image × images/s).\n")
    overhead = result.get("fit_overhead")
    if overhead:
        lines.append("### Fixed per-epoch cost of fer_keras `fit()`\n")
        lines.append(
            f"{overhead['model']}, one epoch of {overhead['steps']} pipeline batches of {overhead['batch']}: "
            f"fer_keras `fit()` {overhead['fer_keras fit()']:.2f} s vs bare `model.fit` "
            f"{overhead['keras model.fit']:.2f} s, so `fit()` adds **{overhead['overhead_s']:.2f} s per epoch** "
            "(the per-epoch checkpoint, CSVLogger, epoch timer, best-weights reload and the final `.keras` save). "
            "Over an epoch of thousands of batches that is noise; in a 10-step benchmark it is not, which is why "
            "the images/s above time `model.fit` steps, not whole `fit()` calls.\n")
    groups = {}
    for row in rows:
        groups.setdefault((row["model"], row["xla"], row["mixed_precision"]), {})[row["dataset"]] = row
    parts = []
    for (model, xla, mixed), found in groups.items():
        if PIPELINE not in found:
            continue
        text = f"{model} XLA {xla}{' mixed' if mixed == 'on' else ''}: {found[PIPELINE]['vs_ceiling']:.1%}"
        parts.append(text)
    met = [g[PIPELINE]["vs_ceiling"] >= THROUGHPUT_TARGET for g in groups.values() if PIPELINE in g]
    summary.append(f"Training throughput, fer_keras pipeline / ceiling (target ≥ {THROUGHPUT_TARGET:.0%}, met in "
                   f"{sum(met)} of {len(met)}): " + "; ".join(parts) + ".")
    speedups = []
    for model in dict.fromkeys(row["model"] for row in rows):
        off = _ceiling(rows, model, "off", "off")
        on = _ceiling(rows, model, "on", "off")
        if off and on:
            speedups.append(f"{model} {on / off:.2f}×")
    skipped = [model for model in dict.fromkeys(row["model"] for row in rows)
               if _ceiling(rows, model, "on", "off") is None]
    summary.append("XLA `jit_compile` on / off, ceiling images/s: " + ", ".join(speedups)
                   + (f" (not run with XLA: {', '.join(skipped)})" if skipped else "") + ".")
    if result["gpu"]:
        summary.append(gpu_summary(result))
    lines.append(THROUGHPUT_NOTES)
    return "\n".join(lines), summary


def gpu_summary(result: dict) -> str:
    """One line for a GPU run: per model, the fastest pipeline setting with its images/s and MFU,
    and mixed precision's gain on the ceiling (XLA off)."""
    from benchmarks.throughput import PIPELINE

    parts = []
    for model in dict.fromkeys(row["model"] for row in result["rows"]):
        piped = [row for row in result["rows"] if row["model"] == model and row["dataset"] == PIPELINE]
        best = max(piped, key=lambda row: row["images_per_s"])
        text = (f"{model} {best['images_per_s']:,.0f} images/s (XLA {best['xla']}, mixed precision "
                f"{best['mixed_precision']}" + (f", MFU {best['mfu']:.1%}" if best["mfu"] is not None else "") + ")")
        off, on = _ceiling(result["rows"], model, "off", "off"), _ceiling(result["rows"], model, "off", "on")
        if off and on:
            text += f", mixed precision {on / off:.2f}×"
        parts.append(text)
    return f"GPU {result['gpu']}, fastest fer_keras pipeline setting per model: " + "; ".join(parts) + "."


def _ceiling(rows: list[dict], model: str, xla: str, mixed: str) -> float | None:
    from benchmarks.throughput import CEILING

    for row in rows:
        if (row["model"], row["xla"], row["mixed_precision"], row["dataset"]) == (model, xla, mixed, CEILING):
            return row["images_per_s"]
    return None


THROUGHPUT_NOTES = """
**Reading the ratios.** On a CPU the input pipeline and the training step share the same
cores, so every millisecond of augmentation is taken from the model. With so few timed steps
(the 224 px models time 1-3 steps of a few images, as a step takes seconds here) a ratio
within about ±10 % of 100 % is noise on this shared machine; a ratio above 100 % is noise too.
On a GPU the pipeline runs on the host's cores while the GPU trains, so the ratio there shows
whether the host keeps the GPU fed.
"""


def latency_section(results: list[dict]) -> tuple[str, list[str]]:
    from benchmarks.latency import FER, FER_KERAS

    lines = ["## 3. Predict latency: one image, face detection + model\n"]
    summary = []
    for result in results:
        if "error" in result:
            lines.append(f"TF threads {result['tf_threads']}: {result['error']}\n")
            continue
        image = result.get("image", "320x320")
        lines.append(f"### {image} images, TensorFlow threads: {result['tf_threads']}\n")
        lines.append(f"{result['source']}; each method sees each image {result['repeats']}× in rotating order; "
                     f"per-image medians, then median and 90th percentile over images. {result['fer_status']}.\n")
        lines.append(markdown_table(result["rows"], ["method", "median_ms", "p90_ms", "images_with_face"]))
        ours = [row for row in result["rows"] if row["method"].startswith(FER_KERAS)]
        theirs = _pick(result["rows"], "method", f"{FER} (tflite)")
        if theirs is None:
            summary.append(f"Predict latency ({image}, {result['tf_threads']}): fer_keras "
                           f"{ours[0]['median_ms']:.0f} ms per image; fer not measured ({result['fer_status']}).")
            continue
        parts = [f"{row['method'].removeprefix(FER_KERAS).strip()} {row['median_ms']:.0f} ms "
                 f"({row['median_ms'] / theirs['median_ms']:.2f}× fer)" for row in ours]
        default = next((row for row in ours if "as predict without --model" in row["method"]), ours[0])
        verdict = "**met**" if default["median_ms"] <= theirs["median_ms"] else "**missed**"
        summary.append(f"Predict latency, {image} images, TF threads {result['tf_threads']}: fer "
                       f"{theirs['median_ms']:.0f} ms vs "
                       f"fer_keras " + ", ".join(parts) + f"; target: {default['method'].removeprefix(FER_KERAS).strip()} no slower than fer, {verdict}.")
    lines.append(latency_notes(results))
    return "\n".join(lines), summary


def _ms(result: dict, prefix: str) -> float | None:
    row = next((row for row in result.get("rows", []) if row["method"].startswith(prefix)), None)
    return row["median_ms"] if row else None


def latency_notes(results: list[dict]) -> str:
    """Where the latency goes and what to change, from the measured stage rows."""
    from benchmarks.latency import DETECT_STAGE, FER_DETECT_STAGE, FER_KERAS, FULL_RESOLUTION_STAGE, MODEL_STAGE

    square = [r for r in results if "error" not in r and r.get("image", "320x320") == "320x320"]
    default = next((r for r in square if "default" in r["tf_threads"]), None)
    single = next((r for r in square if "default" not in r["tf_threads"]), None)
    text = ["", "**Where the time goes.** Both detect faces with OpenCV's frontal-face Haar cascade (scale 1.1, "
            "5 neighbours). fer starts its search at 50 px; fer_keras seeks faces from "
            "`max(face_crop.min_size, short side // 8)` up (40 px on these 320 px images) on a copy shrunk so that "
            "size maps to the cascade's 24 px window, so it skips the large full-resolution pyramid levels it used to "
            "scan (the 'cascade at full resolution' row is that old detection). Images under 8 × `min_size` (160 px "
            "by default), such as the 48 px CK+48 crops used in training, take the old path unchanged. fer's model is "
            "a 64×64 CNN in a TFLite interpreter; fer_keras converts its model (custom_cnn2, 48×48) to float32 TFLite "
            "when the Predictor loads (its default `auto` engine) and can still call it as a traced `tf.function` "
            "(`--engine keras`)."]
    if default:
        named = [("fer_keras detection (min_size 20)", f"{DETECT_STAGE} (min_size 20)"),
                 ("fer_keras detection (min_size 50)", f"{DETECT_STAGE} (min_size 50)"),
                 ("fer_keras crop + resize + model, TFLite engine", f"{MODEL_STAGE} (tflite"),
                 ("fer_keras crop + resize + model, Keras engine", f"{MODEL_STAGE} (keras"),
                 ("fer detection (min 50 px)", FER_DETECT_STAGE),
                 ("fer_keras cascade at full resolution (before)", FULL_RESOLUTION_STAGE)]
        found = [(label, _ms(default, prefix)) for label, prefix in named]
        text.append("Stage medians (default threads): "
                    + "; ".join(f"{label} {value:.0f} ms" for label, value in found if value is not None) + ".")
    if default and single:
        ours_default, ours_single = _ms(default, FER_KERAS), _ms(single, FER_KERAS)
        text.append(f"With one TensorFlow thread fer_keras took {ours_single:.0f} ms per image vs {ours_default:.0f} ms "
                    "with the default pool (separate processes, so only roughly comparable).")
    text.append(LATENCY_PROPOSALS)
    return "\n".join(text)


LATENCY_PROPOSALS = """
**Applied.** The relative minimum face size and the shrunk search copy (`fer_keras/data/faces/detect.py`,
`detect_faces`) are what closed the gap: before them fer_keras took 1.8× fer's time per image
(45 vs 24 ms in the run of 2026-11-25), detection being nearly all of it. The `fer` package is
installed for this benchmark alone with `pip install --no-deps fer` (benchmarks/README.md).
That left fer_keras level with fer (21 vs 20 ms in the run of 2026-11-30 07:58), the model step
through a traced `tf.function` taking about 4 ms of the 7 ms crop + model stage. The Predictor
now converts the model to float32 TFLite when it loads (about 2 s for this CNN, then kept in
the run's `.tflite_cache/`; `engine: auto`, which keeps Keras when a GPU is visible or when
TFLite's probabilities differ from Keras's by more than 1e-4) and XNNPACK runs the 48×48 CNN in under 1 ms, which puts fer_keras clearly ahead (the
'tflite engine' vs 'keras engine' rows above); `--engine keras` keeps the old path.
"""

GPU_PENDING = """## GPU

No GPU was lent to this session, so the GPU rows are pending. On a machine with a GPU the same
command runs every model with XLA on/off × mixed precision (`mixed_float16`) on/off, with the
larger GPU step counts in `benchmarks/throughput.py` (`GPU_CASES`), and fills the `mfu`
column: 3 × forward FLOPs per image × images/s ÷ the GPU's dense FP16/BF16 peak
(`PEAK_TFLOPS`: H100/H200 989 TFLOP/s, A100 312, L4 121, …).
"""


def render_report(results: dict) -> str:
    """The Markdown report of one run (``results`` as built by :func:`main`)."""
    sections, summary = [], []
    for name, render in (("pipeline", pipeline_section), ("throughput", throughput_section),
                         ("latency", latency_section), ("zoo", zoo_section)):
        if results.get(name):
            text, lines = render(results[name])
            sections.append(text)
            summary += lines
    machine = results["machine"]
    gpu = machine.get("GPU", "none")
    head = [
        "# fer_keras benchmarks\n",
        f"Written by `python benchmarks/run.py{' --quick' if results['quick'] else ''}"
        f"{' --only ' + ','.join(results['only']) if results['only'] != list(DEFAULT_BENCHMARKS) else ''}"
        f"{' --zoo-json ' + Path(results['zoo_json']).name if results.get('zoo_json') else ''}` on "
        f"{results['date']} in {results['seconds'] / 60:.1f} minutes"
        f"{'; section 4 is the saved model-zoo run of ' + results['zoo']['date'] if results.get('zoo_json') else ''}"
        ". Speed is measured here, never in tests. "
        "Every ratio compares candidates measured side by side in one run, with alternating repeats and medians.\n",
        "## Machine\n",
        markdown_table([{"": key, "value": value} for key, value in machine.items()], ["", "value"]),
        f"Load average at the end: {results['load_end']}. The machine was shared with other jobs while this ran "
        "(load above the core count means they competed for the CPU), so absolute numbers are low and noisy; "
        "ratios measured side by side are the numbers to read.\n",
        "## Summary\n",
        "\n".join(f"- {line}" for line in summary) + "\n",
    ]
    tail = [GPU_PENDING] if gpu == "none" else []
    return "\n".join(head + sections + tail)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description="Run the fer_keras benchmarks and write reports/benchmarks_run.md.")
    parser.add_argument("--only", default=",".join(DEFAULT_BENCHMARKS),
                        help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default: {','.join(DEFAULT_BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run, numbers are rough")
    parser.add_argument("--models", default=None, help="comma-separated model names for the throughput benchmark "
                        f"(default: all; {', '.join(QUICK_MODELS)} with --quick)")
    parser.add_argument("--xla-all", action="store_true", help="on a CPU, also run the 224 px models with XLA on")
    parser.add_argument("--zoo-json", type=Path, default=None, metavar="JSON",
                        help="include section 4 from this saved `python -m benchmarks.models --json` result")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder holding CK+48/ (default: ../shared/datasets; synthetic faces when absent)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"report path (default: {DEFAULT_OUT})")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="only rewrite the report from the raw numbers a previous run saved (its .json)")
    args = parser.parse_args(argv)
    if args.render:
        args.out.write_text(render_report(json.loads(args.render.read_text())))
        log(f"wrote {args.out} from {args.render}")
        return args.out
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    start = time.perf_counter()
    results = {"machine": machine_info(), "quick": args.quick, "only": only,
               "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    log(f"machine: {results['machine']}")
    if "pipeline" in only:
        results["pipeline"] = run_pipeline(args.quick, args.data_root)
    if "throughput" in only:
        models = [m.strip() for m in args.models.split(",")] if args.models else None
        results["throughput"] = run_throughput(args.quick, args.data_root, models, args.xla_all)
    if "latency" in only:
        results["latency"] = run_latency(args.quick, args.data_root)
    if args.zoo_json:
        results["zoo"] = json.loads(args.zoo_json.read_text())
        results["zoo"].setdefault("date", "an earlier run")
        results["zoo_json"] = str(args.zoo_json)
    elif "zoo" in only:
        results["zoo"] = run_zoo(args.quick)
    results["seconds"] = time.perf_counter() - start
    results["load_end"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_report(results))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    log(f"wrote {args.out} ({results['seconds'] / 60:.1f} min)")
    return args.out


if __name__ == "__main__":
    main()
