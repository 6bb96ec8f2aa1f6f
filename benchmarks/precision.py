"""Training step speed under float32 against mixed_bfloat16, side by side, on this CPU.

``python -m benchmarks.precision [--models custom_cnn2,compact_cnn] [--steps 20] [--repeats 3]``

For each model (fer_keras's builders, 48×48×1, batch 64, ``compile_model``) both dtype
policies train on one fixed in-memory batch (the model's own speed, no input pipeline); their
``model.fit`` calls alternate (interleaved repeats, medians), so the ratio compares like with
like on a shared machine. The CPU's flags are printed: ``runtime.mixed_precision: auto`` picks
``mixed_bfloat16`` only where :func:`fer_keras.training.runtime.has_bf16_matrix_units`; on a
CPU without them the row says so instead of timing a policy ``auto`` never uses.

Writes ``reports/benchmarks_precision.md`` (or ``--out``) and the raw numbers beside it (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = ("custom_cnn1", "custom_cnn2", "custom_cnn3", "compact_cnn")
POLICIES = ("float32", "mixed_bfloat16")
NO_UNITS = "no bf16 matrix units: auto trains in float32"


def measure(name: str, steps: int, repeats: int, batch_size: int = 64) -> dict[str, list[float]]:
    """Images/s of ``model.fit`` on one in-memory batch, per policy, interleaved."""
    import keras
    import numpy as np

    from benchmarks import interleaved
    from benchmarks.throughput import ModelCase, ceiling_dataset, compiled_model, fit_rate

    case = ModelCase(name, (48, 48), "grayscale", batch_size, 3, steps, repeats)
    rng = np.random.default_rng(0)
    batch = (rng.uniform(0, 255, (batch_size, 48, 48, 1)).astype("float32"), rng.integers(0, 7, batch_size))
    dataset = ceiling_dataset(batch, batch_size)
    models = {policy: compiled_model(case, 7, jit_compile=False, precision=policy) for policy in POLICIES}
    for model in models.values():
        fit_rate(model, dataset, batch_size, case.warmup, 1)  # tracing and first-call costs
    results = interleaved({policy: (lambda m=model: fit_rate(m, dataset, batch_size, case.warmup, steps))
                           for policy, model in models.items()}, repeats)
    keras.backend.clear_session()
    return results


def rows_for(models, steps: int, repeats: int, bf16_units: bool, log=print) -> list[dict]:
    """One row per model: images/s per policy and their ratio (or why there is no ratio)."""
    from benchmarks import median

    rows = []
    for name in models:
        if not bf16_units:
            rows.append({"model": name, "float32 images/s": None, "mixed_bfloat16 images/s": None,
                         "bf16 / fp32": NO_UNITS})
            continue
        results = measure(name, steps, repeats)
        fp32, bf16 = median(results["float32"]), median(results["mixed_bfloat16"])
        log(f"  {name}: float32 {fp32:.0f}/s, mixed_bfloat16 {bf16:.0f}/s ({bf16 / fp32:.2f}x)")
        rows.append({"model": name, "float32 images/s": fp32, "mixed_bfloat16 images/s": bf16,
                     "bf16 / fp32": f"{bf16 / fp32:.2f}x"})
    return rows


def render(machine: dict, flags: list[str], rows: list[dict], steps: int, repeats: int) -> str:
    """The Markdown report."""
    from benchmarks import markdown_table

    lines = ["# Training step: float32 vs mixed_bfloat16 on this CPU", "",
             f"Written by `python -m benchmarks.precision --steps {steps} --repeats {repeats}`. "
             "Each model (48x48x1, batch 64, fer_keras's `compile_model`) trains on one fixed in-memory batch "
             "under both dtype policies, their `fit` calls interleaved; images/s are medians of the repeats. "
             "Only the ratio compares (the machines are shared).", "",
             f"- CPU: {machine['CPU']}, {machine['CPU cores visible']} cores",
             f"- bf16-related CPU flags: {', '.join(flags) or 'none'}",
             f"- TensorFlow {machine['TensorFlow']}, Keras {machine['Keras']}", "",
             markdown_table(rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks_precision.md")
    parser.add_argument("--json", type=Path, default=None, help="raw numbers (default: beside --out, as .json; "
                        "docs/ and reports/benchmarks.md render their tables from it)")
    args = parser.parse_args(argv)

    from benchmarks import machine_info
    from fer_keras.training.runtime import cpu_flags, has_bf16_matrix_units

    machine = machine_info()
    flags = sorted(flag for flag in cpu_flags() if "bf16" in flag or flag.startswith("amx"))
    print(f"CPU: {machine['CPU']}; bf16 flags: {', '.join(flags) or 'none'}")
    rows = rows_for([m.strip() for m in args.models.split(",") if m.strip()], args.steps, args.repeats,
                    has_bf16_matrix_units())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(machine, flags, rows, args.steps, args.repeats))
    (args.json or args.out.with_suffix(".json")).write_text(
        json.dumps({"machine": machine, "flags": flags, "rows": rows}, indent=2))
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
