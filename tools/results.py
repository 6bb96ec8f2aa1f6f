"""The measured results the user docs quote, each read from the committed files of one run.

A :class:`Result` names a committed example run (``reports/examples/<run>/``) and the test set
in its ``metrics.json`` (or its ``seeds_summary.csv``); everything a table cell shows, the
accuracy, interval, epochs, seeds, hardware and wall time, is read from that run's files.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "reports" / "examples"


@dataclass(frozen=True)
class Result:
    """One measured number: ``run``'s accuracy on ``test_set``, beside the paper's where there is one."""

    paper: str            # "A" … "D", or "" when beyond the papers
    experiment: str       # what a reader looks for: "Table 5, Model 1"
    config: str           # the packaged config that reruns it
    run: str              # folder under reports/examples/
    test_set: str         # key in metrics.json, or the row of seeds_summary.csv
    paper_value: float | None = None
    variant: str = ""     # history/epoch_times suffix of a transfer run: "fine-tuned" or "scratch"
    schedule: int | None = None  # epochs of a deliberately shortened schedule (default: the packaged config's)

    @property
    def folder(self) -> Path:
        return EXAMPLES / self.run

    @property
    def link(self) -> str:
        """The run's summary, relative to the repository root."""
        name = "seeds_summary.md" if self.seeded else "report.md"
        return f"reports/examples/{self.run}/{name}"

    @property
    def seeded(self) -> bool:
        return (self.folder / "seeds_summary.csv").exists()

    @cached_property
    def metrics(self) -> dict:
        return json.loads((self.folder / "metrics.json").read_text())["test_sets"][self.test_set]

    @cached_property
    def seed_accuracies(self) -> list[float]:
        """Accuracy (%) per seed from seeds_summary.csv, or the single run's."""
        if not self.seeded:
            return [100 * self.metrics["accuracy"]]
        table = pd.read_csv(self.folder / "seeds_summary.csv")
        cell = table.loc[table["test set"] == self.test_set, "accuracy per seed (%)"]
        if cell.empty:
            raise KeyError(f"{self.run}/seeds_summary.csv has no row {self.test_set!r}")
        return [float(value) for value in str(cell.iloc[0]).split(",")]

    @property
    def accuracy(self) -> float:
        """Mean accuracy (%) over the seeds (one seed: that run's)."""
        return statistics.fmean(self.seed_accuracies)

    @property
    def measured(self) -> str:
        """The cell: ``60.55``, or seeds_summary.csv's ``75.97 ± 3.55`` (from unrounded accuracies)."""
        if not self.seeded:
            return f"{self.accuracy:.2f}"
        table = pd.read_csv(self.folder / "seeds_summary.csv")
        return str(table.loc[table["test set"] == self.test_set, "mean ± SD (%)"].iloc[0])

    @property
    def ci(self) -> str:
        """The first seed's 95% interval (%)."""
        low, high = self.metrics["accuracy_ci95"]
        return f"{100 * low:.1f}–{100 * high:.1f}"

    @property
    def images(self) -> int:
        return int(self.metrics["n"])

    @cached_property
    def config_run(self) -> dict:
        return yaml.safe_load((self.folder / "config.yaml").read_text(encoding="utf-8"))

    @cached_property
    def config_shipped(self) -> dict:
        """The packaged config's training section (what the paper's schedule is)."""
        from fer_keras.config import load_config

        return load_config(self.config).training.model_dump()

    def _suffix(self) -> str:
        return f"_{self.variant}" if self.variant else ""

    @cached_property
    def epochs_run(self) -> int | None:
        history = self.folder / f"history_fold0{self._suffix()}.csv"
        return len(pd.read_csv(history)) if history.exists() else None

    @property
    def epochs(self) -> str:
        """``75`` when the run finished its config's schedule, else ``14 of 75 (partial)``."""
        planned = self.schedule or int(self.config_shipped["epochs"])
        run = self.epochs_run
        if run is None:
            return "—"
        return f"{run}" if run >= planned else f"{run} of {planned} (partial)"

    @property
    def seeds(self) -> str:
        if self.seeded:
            table = pd.read_csv(self.folder / "seeds_summary.csv")
            return str(table.loc[table["test set"] == self.test_set, "seeds"].iloc[0])
        return str(self.config_run.get("seed", "—"))

    @cached_property
    def environment(self) -> list[dict]:
        path = self.folder / "environment.json"
        return json.loads(path.read_text()) if path.exists() else []

    @property
    def hardware(self) -> str:
        if not self.environment:
            return "—"
        first = self.environment[0]
        gpus = ", ".join(first.get("gpus") or []) or "no GPU"
        return f"{first.get('cpu_cores', '?')} cores, {first.get('cpu', '?')}, {gpus}"

    @property
    def training_seconds(self) -> float | None:
        """Wall-clock seconds of the first seed's epochs, from epoch_times*.csv (None when not recorded)."""
        files = sorted(self.folder.glob(f"epoch_times_fold*{self._suffix()}.csv"))
        return sum(float(pd.read_csv(path)["seconds"].sum()) for path in files) if files else None

    @property
    def training_time(self) -> str:
        """``49 s``, ``36 min`` or ``2.4 h``."""
        seconds = self.training_seconds
        if seconds is None:
            return "—"
        if seconds < 120:
            return f"{seconds:.0f} s"
        return f"{seconds / 60:.0f} min" if seconds < 3 * 3600 else f"{seconds / 3600:.1f} h"

    @property
    def paper_cell(self) -> str:
        return "—" if self.paper_value is None else f"{self.paper_value:.2f}"


def c(experiment, config, run, test_set, paper=None, variant=""):
    return Result("C", experiment, config, run, test_set, paper, variant)


#: Paper C (Borgalli and Surve 2022): every measured row, in the paper's table order.
PAPER_C = [
    c("Table 5, Model 1, FER2013", "fer2013_model1.yaml", "fer2013_model1", "fer2013", 61.19),
    c("Table 5, Model 2, FER2013", "fer2013_model2.yaml", "fer2013_model2", "fer2013", 61.58),
    c("Table 5, Model 3, FER2013", "fer2013_model3.yaml", "fer2013_model3", "fer2013", 61.62),
    c("Tables 6–7, Model 1, CK+, fine-tuned", "ckplus_model1_transfer.yaml", "ckplus_model1_transfer",
      "ckplus · fine-tuned", 50.96, "fine-tuned"),
    c("Tables 6–7, Model 1, CK+, scratch", "ckplus_model1_transfer.yaml", "ckplus_model1_transfer",
      "ckplus · scratch", 46.89, "scratch"),
    c("Tables 6–7, Model 2, CK+, fine-tuned", "ckplus_model2_transfer.yaml", "ckplus_model2_transfer",
      "ckplus · fine-tuned", 68.81, "fine-tuned"),
    c("Tables 6–7, Model 2, CK+, scratch", "ckplus_model2_transfer.yaml", "ckplus_model2_transfer",
      "ckplus · scratch", 50.73, "scratch"),
    c("Tables 6–7, Model 3, CK+, fine-tuned", "ckplus_model3_transfer.yaml",
      "ckplus_model3_transfer", "ckplus · fine-tuned", 61.45, "fine-tuned"),
    c("Tables 6–7, Model 3, CK+, scratch", "ckplus_model3_transfer.yaml", "ckplus_model3_transfer",
      "ckplus · scratch", 60.90, "scratch"),
    c("Tables 6–7, Model 1, JAFFE, fine-tuned", "jaffe_model1_transfer.yaml", "jaffe_model1_transfer",
      "jaffe · fine-tuned", 76.74, "fine-tuned"),
    c("Tables 6–7, Model 1, JAFFE, scratch", "jaffe_model1_transfer.yaml", "jaffe_model1_transfer",
      "jaffe · scratch", 74.02, "scratch"),
    c("Tables 6–7, Model 2, JAFFE, fine-tuned", "jaffe_model2_transfer.yaml", "jaffe_model2_transfer",
      "jaffe · fine-tuned", 79.07, "fine-tuned"),
    c("Tables 6–7, Model 2, JAFFE, scratch", "jaffe_model2_transfer.yaml", "jaffe_model2_transfer",
      "jaffe · scratch", 74.42, "scratch"),
    c("Tables 6–7, Model 3, JAFFE, fine-tuned", "jaffe_model3_transfer.yaml",
      "jaffe_model3_transfer", "jaffe · fine-tuned", 65.12, "fine-tuned"),
    c("Tables 6–7, Model 3, JAFFE, scratch", "jaffe_model3_transfer.yaml", "jaffe_model3_transfer",
      "jaffe · scratch", 60.47, "scratch"),
    c("ensemble of Models 1, 2, 3 (Model 3 partial)", "fer2013_ensemble.yaml", "fer2013_ensemble",
      "ensemble · fer2013"),
    c("ensemble of Models 1 and 2", "fer2013_ensemble.yaml", "fer2013_ensemble_models_1_2", "ensemble · fer2013"),
]

#: The honest protocols beside paper C's random splits (the paper's number is its random split's).
HONEST = [
    c("JAFFE, leave one woman out, fine-tuned", "jaffe_model2_loso.yaml", "jaffe_model2_loso",
      "jaffe · fine-tuned", 79.07, "fine-tuned"),
    c("JAFFE, leave one woman out, scratch", "jaffe_model2_loso.yaml", "jaffe_model2_loso",
      "jaffe · scratch", 74.42, "scratch"),
    c("CK+, split by person, fine-tuned", "ckplus_model2_subject.yaml", "ckplus_model2_subject",
      "ckplus · fine-tuned", 68.81, "fine-tuned"),
    c("CK+, split by person, scratch", "ckplus_model2_subject.yaml", "ckplus_model2_subject",
      "ckplus · scratch", 50.73, "scratch"),
]

#: Paper D's 48 px pipeline on the 82 KDEF photos here: a smoke run, no paper comparison.
KDEF_SMOKE = [
    Result("D", "2-layer CNN, 48 px", "kdef_cnn2_48.yaml", "kdef_subset_smoke", "kdef"),
    Result("D", "LinearSVC on pixels", "kdef_cnn2_48.yaml", "kdef_subset_smoke", "kdef · svm+pixels"),
    Result("D", "LinearSVC on HOG", "kdef_cnn2_48.yaml", "kdef_subset_smoke", "kdef · svm+hog"),
    Result("D", "LinearSVC on LBP", "kdef_cnn2_48.yaml", "kdef_subset_smoke", "kdef · svm+lbp"),
]

#: Paper B's protocol on the real JAFFE at a reduced schedule (random weights, 96 px): not the paper's setup.
PAPER_B_PROTOCOLS = [
    Result("B", "augment, then split (the paper's order)", "jaffe_mobilenet.yaml", "jaffe_mobilenet_augment_then_split",
           "jaffe", 85.54, schedule=8),
    Result("B", "split, then augment", "jaffe_mobilenet.yaml", "jaffe_mobilenet_split_then_augment", "jaffe",
           schedule=8),
    Result("B", "split by person, then augment", "jaffe_mobilenet.yaml", "jaffe_mobilenet_subject_independent",
           "jaffe", schedule=8),
]

#: The bundled model: stage one (FER2013 only), then stage two (posed faces added), which ships.
BUNDLED_STAGE_ONE = Result("", "the bundled model's stage one, FER2013 PrivateTest", "fer2013_bundled.yaml",
                           "fer2013_bundled", "fer2013")
BUNDLED = Result("", "the bundled model (stage two: 3 epochs after stage one's 12; no flip), FER2013 PrivateTest",
                 "fer2013_bundled_posed.yaml", "fer2013_bundled_posed", "fer2013")
QUICKSTART = Result("", "quickstart, synthetic faces", "quickstart.yaml", "quickstart", "synthetic")

ALL = PAPER_C + HONEST + KDEF_SMOKE + PAPER_B_PROTOCOLS + [BUNDLED_STAGE_ONE, BUNDLED, QUICKSTART]


#: Paper C's JAFFE gaps: what was tried, one setting changed per row (folder under reports/examples/jaffe_gaps/,
#: the model and variant, the change from the shipped config, the paper's number).
JAFFE_GAPS = [
    ("m2_scratch_shipped", "Model 2, scratch", "none: batch 64, Adam 1e-3, 75 epochs (`jaffe_model2_transfer.yaml`)", 74.42),
    ("m2_scratch_batch16", "Model 2, scratch", "batch 16", 74.42),
    ("m2_scratch_batch8", "Model 2, scratch", "batch 8", 74.42),
    ("m2_scratch_batch8_lr1e-4", "Model 2, scratch", "batch 8, learning rate 1e-4", 74.42),
    ("m2_scratch_batch64_100perclass", "Model 2, scratch", "100 augmented images a class an epoch", 74.42),
    ("m2_scratch_batch64_200perclass", "Model 2, scratch", "200 augmented images a class an epoch", 74.42),
    ("m2_scratch_batch64_400perclass", "Model 2, scratch", "400 augmented images a class an epoch", 74.42),
    ("m1_finetune_shipped", "Model 1, fine-tuned", "none: Adam 1e-3, batch 64 (`jaffe_model1_transfer.yaml`)", 76.74),
    ("m1_finetune_lr1e-4", "Model 1, fine-tuned", "learning rate 1e-4", 76.74),
    ("m1_finetune_100perclass", "Model 1, fine-tuned", "100 augmented images a class an epoch", 76.74),
    ("m1_finetune_200perclass", "Model 1, fine-tuned", "200 augmented images a class an epoch", 76.74),
]
