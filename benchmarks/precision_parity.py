"""Accuracy parity of a bfloat16 training: two runs of one config, float32 and mixed_bfloat16, side by side.

``python -m benchmarks.precision_parity --fp32 RUN --bf16 RUN --out DIR``

Reads both finished runs (same config but ``runtime.mixed_precision``, same seed) and writes
``DIR/parity.md`` and ``DIR/parity_epochs.csv``: the validation accuracy per epoch, the test
accuracy (95% CI) and macro-F1 of the kept epoch, the median seconds per epoch; then, on the
bf16 run's test images, how its model in bfloat16, its float32 copy (what predict runs on a CPU)
and the TFLite twin of that copy agree. No image is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run_summary(run: Path) -> dict:
    """Test accuracy, interval, macro-F1, epochs and seconds of one finished run."""
    from fer_keras.config import load_run_config

    metrics = json.loads((run / "metrics.json").read_text())
    (name, stats), = metrics["test_sets"].items()
    config = load_run_config(run / "config.yaml")
    history = pd.read_csv(run / "history_fold0.csv")
    times = pd.read_csv(run / "epoch_times_fold0.csv")
    sessions = json.loads((run / "environment.json").read_text())
    return {"test set": name, "n": stats["n"], "accuracy": stats["accuracy"], "ci": stats.get("accuracy_ci95"),
            "macro_f1": stats.get("macro_f1"), "seed": config.seed, "epochs": len(history),
            "kept epoch": int(history["val_accuracy"].idxmax()) + 1, "val_accuracy": history["val_accuracy"].tolist(),
            "median s/epoch": float(times["seconds"].median()),
            "fastest s/epoch": float(times["seconds"].min()), "precision": sessions[-1].get("precision"),
            "cpu": sessions[-1]["cpu"]}


def agreement(run: Path) -> dict:
    """The bf16 model, its float32 copy and the copy's TFLite twin on the run's test images."""
    from fer_keras.config import load_run_config
    from fer_keras.data.load import load_data
    from fer_keras.inference.deploy import tflite_bytes
    from fer_keras.inference.predictor import load_keras_model
    from fer_keras.inference.runners import keras_runner, tflite_runner
    from fer_keras.models.float32_copy import float32_model

    config = load_run_config(run / "config.yaml")
    loaded = load_data(config.data)
    test = (loaded.table["usage"] == "test").to_numpy()
    images, labels = loaded.images[test].astype("float32"), loaded.label_ids[test]
    model = load_keras_model(run / "model_fold0.keras")
    copy = float32_model(model)
    bf16, fp32 = keras_runner(model)(images), keras_runner(copy)(images)
    with tempfile.TemporaryDirectory() as scratch:
        twin = Path(scratch) / "model.tflite"
        twin.write_bytes(tflite_bytes(model))
        lite = np.concatenate([tflite_runner(twin)(images[i:i + 256]) for i in range(0, len(images), 256)])
    return {"images": int(len(images)),
            "accuracy: bf16 model / float32 copy / TFLite twin": " / ".join(
                f"{100 * np.mean(p.argmax(1) == labels):.2f}" for p in (bf16, fp32, lite)),
            "same class, bf16 model vs float32 copy (%)": f"{100 * np.mean(bf16.argmax(1) == fp32.argmax(1)):.2f}",
            "max |Δp|, bf16 model vs float32 copy": f"{np.abs(bf16 - fp32).max():.3f}",
            "median per-image max |Δp|, bf16 model vs float32 copy": f"{np.median(np.abs(bf16 - fp32).max(1)):.4f}",
            "max |Δp|, TFLite twin vs float32 copy": f"{np.abs(lite - fp32).max():.1e}"}


def render(fp32: dict, bf16: dict, agreed: dict, fp32_run: Path, bf16_run: Path, note: str = ""
           ) -> tuple[str, pd.DataFrame]:
    """The Markdown page and the per-epoch table."""
    from benchmarks import markdown_table

    epochs = pd.DataFrame({"epoch": range(1, max(fp32["epochs"], bf16["epochs"]) + 1)})
    for name, summary in (("float32", fp32), ("mixed_bfloat16", bf16)):
        epochs[f"{name} val accuracy (%)"] = pd.Series([100 * v for v in summary["val_accuracy"]])

    def cell(summary):
        low, high = summary["ci"] or (np.nan, np.nan)
        return f"{100 * summary['accuracy']:.2f} ({100 * low:.1f}–{100 * high:.1f})"

    rows = [{"": "recorded precision", "float32": fp32["precision"], "mixed_bfloat16": bf16["precision"]},
            {"": f"{fp32['test set']} test accuracy, % (95% CI), n = {fp32['n']}", "float32": cell(fp32),
             "mixed_bfloat16": cell(bf16)},
            {"": "macro-F1", "float32": f"{fp32['macro_f1']:.3f}", "mixed_bfloat16": f"{bf16['macro_f1']:.3f}"},
            {"": "epochs run (kept epoch, best validation)", "float32": f"{fp32['epochs']} ({fp32['kept epoch']})",
             "mixed_bfloat16": f"{bf16['epochs']} ({bf16['kept epoch']})"},
            {"": "seconds per epoch, wall clock: median (fastest)",
             "float32": f"{fp32['median s/epoch']:.1f} ({fp32['fastest s/epoch']:.1f})",
             "mixed_bfloat16": f"{bf16['median s/epoch']:.1f} ({bf16['fastest s/epoch']:.1f})"}]
    text = ["# float32 vs mixed_bfloat16 training: accuracy parity", "",
            f"Written by `python -m benchmarks.precision_parity --fp32 {fp32_run} --bf16 {bf16_run}`. "
            f"Both runs: the same config and seed ({fp32['seed']}), only `runtime.mixed_precision` differs; "
            f"CPU: {bf16['cpu']}. One run each: training is not bit-deterministic, so the gap between the "
            "two is of the size of the gap between two float32 runs of one config." + (f" {note}" if note else ""), "",
            markdown_table(rows), "", "## The bf16-trained model at predict time", "",
            markdown_table([{"": key, "value": value} for key, value in agreed.items()]), "",
            "## Validation accuracy per epoch", "", markdown_table(epochs.round(2).to_dict("records")), ""]
    return "\n".join(text), epochs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fp32", type=Path, required=True)
    parser.add_argument("--bf16", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--note", default="", help="a sentence on how the runs were measured (e.g. shared cores)")
    args = parser.parse_args(argv)
    text, epochs = render(run_summary(args.fp32), run_summary(args.bf16), agreement(args.bf16), args.fp32, args.bf16,
                          args.note)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.md").write_text(text)
    epochs.to_csv(args.out / "parity_epochs.csv", index=False)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
