"""The real FER2013 case: reading cost and training speed of ``fer2013_model2.yaml`` on its own data.

``python benchmarks/fer2013_epoch.py [--root ../shared/datasets/FER2013] [--steps 40] [--repeats 3]``

1. **Read + decode**: ``load_data`` on the 35,887 image files (reader, header checks, OpenCV
   decode, resize), once, timed.
2. **Training speed**, in one process, side by side (interleaved repeats, median): Model 2 at
   the paper's settings (batch 64, Adam) on
   - *ceiling*: one fixed augmented batch from memory (the model's own speed), and
   - *fer_keras pipeline*: ``make_dataset`` over the decoded training images with the
     config's augmentation (flip, rotation, zoom, blur, noise) and ``per_class`` balancing.
   The ratio pipeline / ceiling is the share of the model's speed a real epoch keeps.
3. **Augmenter alone**: the config's augmenter on one in-memory chunk of images as large as the
   pipeline's (``augment_chunk_size``), compiled, no model, interleaved with the two above: its
   images/s, and its share of the model's time per image (ceiling / augmenter), the least a
   pipeline on the same cores can lose.

Writes ``reports/benchmarks_fer2013.md`` (or ``--out``). Needs the FER2013 image folders.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def augmenter_rate(augment, chunk, calls: int = 40) -> float:
    """Images/s of the compiled ``augment`` over ``calls`` calls on one in-memory ``chunk``."""
    from benchmarks import timed

    return calls * int(chunk.shape[0]) / timed(lambda: [augment(chunk).numpy() for _ in range(calls)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO.parent / "shared" / "datasets" / "FER2013")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks_fer2013.md")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from benchmarks import interleaved, median
    from benchmarks.throughput import ceiling_dataset, compiled_model, fit_rate, ModelCase
    from fer_keras.config import load_config
    from fer_keras.data.augment import build_augmenter
    from fer_keras.data.balance import balanced_indices
    from fer_keras.data.load import load_data
    from fer_keras.data.pipeline import augment_chunk_size, make_dataset

    config = load_config("fer2013_model2.yaml", [f"data.root={args.root}"])
    start = time.perf_counter()
    loaded = load_data(config.data)
    read_seconds = time.perf_counter() - start
    train = (loaded.table["usage"] == "train").to_numpy()
    images, labels = loaded.images[train], loaded.label_ids[train]

    case = ModelCase("custom_cnn2", (48, 48), "grayscale", config.training.batch_size, 5, args.steps, args.repeats)
    model = compiled_model(case, len(loaded.classes), jit_compile=False)
    indices = balanced_indices(labels, config.augmentation.balance, seed=0)
    augmenter = build_augmenter(config.augmentation, seed=0)
    pipeline = make_dataset(images, labels, case.batch_size, indices=indices, shuffle=True,
                            augmenter=augmenter, seed=0).repeat()
    ceiling = ceiling_dataset(next(iter(pipeline)), case.batch_size)
    chunk = augment_chunk_size(case.batch_size, images.shape[1:])
    chunk_images = tf.cast(tf.constant(images[:chunk]), tf.float32)
    augment = tf.function(lambda batch: augmenter(batch, training=True))
    fit_rate(model, ceiling, case.batch_size, case.warmup, 1)  # tracing and first-call costs
    augment(chunk_images)  # tracing
    rates = interleaved({
        "ceiling": lambda: fit_rate(model, ceiling, case.batch_size, case.warmup, case.steps),
        "pipeline": lambda: fit_rate(model, pipeline, case.batch_size, case.warmup, case.steps),
        "augmenter": lambda: augmenter_rate(augment, chunk_images),
    }, case.repeats)
    ceiling_rate, pipeline_rate, augment_rate = (median(rates[name]) for name in ("ceiling", "pipeline", "augmenter"))
    epoch_images = len(indices)
    text = "\n".join([
        "# FER2013, the real data: reading cost and training speed (Model 2, paper settings)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, by `python benchmarks/fer2013_epoch.py` ({args.steps} steps x {args.repeats} "
        "interleaved repeats, median).",
        "",
        "| what | value |",
        "|---|---|",
        f"| read + decode {len(loaded.table):,} files (reader, checks, OpenCV decode) | {read_seconds:.1f} s |",
        f"| one balanced epoch (per_class) | {epoch_images:,} images, {-(-epoch_images // case.batch_size)} batches of {case.batch_size} |",
        f"| ceiling: one in-memory batch | {ceiling_rate:.0f} images/s |",
        f"| fer_keras pipeline (augment + balance) | {pipeline_rate:.0f} images/s |",
        f"| pipeline / ceiling | **{100 * pipeline_rate / ceiling_rate:.0f}%** (goal >= 90%) |",
        f"| epoch at the pipeline's speed | {epoch_images / pipeline_rate:.0f} s |",
        f"| augmenter alone, chunks of {chunk} in memory | {augment_rate:,.0f} images/s: "
        f"{100 * ceiling_rate / augment_rate:.1f}% of the model's time per image |",
        "",
        f"Per repeat, images/s: ceiling {', '.join(f'{v:.0f}' for v in rates['ceiling'])}; "
        f"pipeline {', '.join(f'{v:.0f}' for v in rates['pipeline'])}; "
        f"augmenter {', '.join(f'{v:.0f}' for v in rates['augmenter'])}.",
        "",
    ])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
