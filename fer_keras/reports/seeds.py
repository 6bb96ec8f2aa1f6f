"""Several runs of one experiment (one per seed) → accuracy mean ± SD per test set, beside the paper.

Training here is not bit-deterministic, and small test sets (JAFFE's 43 images, CK+'s 66) swing
by several points between seeds, so small-data results are quoted over at least three seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import load_run_config
from fer_keras.errors import ReportError
from fer_keras.atomic_write import write_text
from fer_keras.rundir import RunDir


def seed_summary(run_dirs: list[str | Path]) -> pd.DataFrame:
    """One row per test set: the runs' seeds, accuracies (%), mean ± SD, the paper's number when the config gives one."""
    accuracies: dict[str, list[float]] = {}
    seeds, paper = [], {}
    resolved = [Path(run).resolve() for run in run_dirs]
    twice = sorted({str(run) for run in run_dirs if resolved.count(Path(run).resolve()) > 1})
    if twice:
        raise ReportError(f"--seeds lists the run {twice[0]} twice; give each seed's run once")
    for run in map(RunDir, run_dirs):
        if not run.metrics_path.is_file():
            raise ReportError(f"{run.path}: no metrics.json (not a finished run)")
        config = load_run_config(run.config_path)
        seeds.append(config.seed)
        paper = paper or (config.report.paper.get("accuracy") or {})
        for test_set, stats in run.read_json(run.metrics_path)["test_sets"].items():
            accuracies.setdefault(test_set, []).append(100 * stats["fold_mean_sd"]["mean"])
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise ReportError(f"--seeds: two of the runs have seed {repeated[0]}; a mean over seeds needs one run per seed")
    rows = []
    for test_set, values in accuracies.items():
        paper_value = paper.get(test_set) if isinstance(paper, dict) else (paper if len(rows) == 0 else None)
        rows.append({
            "test set": test_set, "seeds": ", ".join(map(str, seeds)),
            "accuracy per seed (%)": ", ".join(f"{v:.2f}" for v in values),
            "mean ± SD (%)": f"{np.mean(values):.2f} ± {np.std(values, ddof=1) if len(values) > 1 else 0.0:.2f}",
            "paper (%)": "" if paper_value is None else f"{float(paper_value):.2f}",
        })
    return pd.DataFrame(rows)


def write_seed_summary(run_dirs: list[str | Path], out: str | Path) -> Path:
    """``seeds_summary.csv`` and ``seeds_summary.md`` in ``out``; returns the markdown path."""
    table = seed_summary(run_dirs)  # checked before --out is made
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "seeds_summary.csv", table.to_csv(index=False))
    text = f"# Accuracy over {len(run_dirs)} seeds\n\nRuns: {', '.join(Path(r).name for r in run_dirs)}\n\n"
    write_text(out / "seeds_summary.md", text + table.to_markdown(index=False) + "\n")
    return out / "seeds_summary.md"
