"""Run directories: :class:`RunDir` names a run's files, finds them, and writes them whole.

A run lives in ``<out_dir>/<experiment>/<timestamp>/`` (or ``--out``). Every file is written
whole (:mod:`fer_keras.atomic_write`), so a reader (the report, a resumed run) only ever sees
whole files. Its life (lock, status, resuming) is :mod:`fer_keras.training.run_lifecycle`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fer_keras.atomic_write import write_file, write_json, write_text
from fer_keras.labels import classes_of



class RunDir:
    """One run's folder: the name of every file in it, whole-file writes, and its lock and status."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def of(cls, run: str | Path | RunDir) -> RunDir:
        """``run`` itself when it is a RunDir, else the RunDir of that folder."""
        return run if isinstance(run, RunDir) else cls(run)

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # ---- layout: one name per file ----------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        """The resolved config the run was started with."""
        return self.path / "config.yaml"

    @property
    def status_path(self) -> Path:
        """running / failed (with the reason) / finished."""
        return self.path / "status.json"

    @property
    def metrics_path(self) -> Path:
        """Class order and measured metrics per result (written by the report)."""
        return self.path / "metrics.json"

    @property
    def notes_path(self) -> Path:
        """The sentences the report shows under "Notes" (:mod:`fer_keras.reports.notes`)."""
        return self.path / "notes.txt"

    @property
    def note_records_path(self) -> Path:
        """What the notes say, as records: one JSON object a line."""
        return self.path / "notes.jsonl"

    @property
    def splits_path(self) -> Path:
        return self.path / "splits.json"

    @property
    def split_counts_path(self) -> Path:
        return self.path / "split_counts.csv"

    @property
    def split_protocol_path(self) -> Path:
        return self.path / "split_protocol.json"

    @property
    def data_counts_path(self) -> Path:
        return self.path / "data_counts.csv"

    @property
    def train_extra_counts_path(self) -> Path:
        """Per extra training set and class: images used and how often each trains (``train_extra``)."""
        return self.path / "train_extra_counts.csv"

    @property
    def excluded_path(self) -> Path:
        return self.path / "excluded.csv"

    @property
    def environment_path(self) -> Path:
        """The hardware and versions of each session that trained the run."""
        return self.path / "environment.json"

    @property
    def baselines_path(self) -> Path:
        return self.path / "baselines.csv"

    @property
    def samples_path(self) -> Path:
        """A few evaluation images for the report's emotion-analysis figure."""
        return self.path / "samples.npz"

    @property
    def all_predictions_path(self) -> Path:
        """Every finished fold's predictions in one table (written by the report)."""
        return self.path / "predictions.csv"

    @property
    def report_markdown_path(self) -> Path:
        return self.path / "report.md"

    @property
    def report_html_path(self) -> Path:
        return self.path / "report.html"

    @property
    def learning_curves_path(self) -> Path:
        return self.path / "learning_curves.png"

    @property
    def folds_boxplot_path(self) -> Path:
        return self.path / "folds_boxplot.png"

    @property
    def emotion_analysis_path(self) -> Path:
        return self.path / "emotion_analysis.png"

    @property
    def gradcam_comparison_path(self) -> Path:
        return self.path / "gradcam_comparison.csv"

    @property
    def source(self) -> RunDir:
        """A transfer run's source stage, a run of its own inside this one."""
        return RunDir(self.path / "source")

    def predictions_path(self, fold: int) -> Path:
        """Fold ``fold``'s predictions; its presence means the fold is finished."""
        return self.path / f"predictions_fold{fold}.csv"

    def model_path(self, fold: int = 0, tag: str = "") -> Path:
        """Fold ``fold``'s trained model (``tag``: ``_<variant>`` of a transfer run)."""
        return self.path / f"model_fold{fold}{tag}.keras"

    def tflite_path(self, fold: int = 0, tag: str = "") -> Path:
        """The float32 TFLite twin of :meth:`model_path`."""
        return self.model_path(fold, tag).with_suffix(".tflite")

    def history_path(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s per-epoch history (Keras ``CSVLogger``)."""
        return self.path / f"history_fold{fold}{tag}.csv"

    def epoch_times_path(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s wall-clock seconds per epoch."""
        return self.path / f"epoch_times_fold{fold}{tag}.csv"

    def backup_path(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s checkpoint folder while it trains (latest and best epoch, :mod:`.checkpoints`)."""
        return self.path / f".backup_fold{fold}{tag}"

    def tensorboard_path(self, fold: int, tag: str = "") -> Path:
        return self.path / "tensorboard" / f"fold{fold}{tag}"

    def confusion_matrix_path(self, suffix: str = "", ext: str = "csv") -> Path:
        """A result's confusion matrix (``suffix``: ``_<test set>`` when a run has several)."""
        return self.path / f"confusion_matrix{suffix}.{ext}"

    def per_class_accuracy_path(self, suffix: str = "", ext: str = "csv") -> Path:
        return self.path / f"per_class_accuracy{suffix}.{ext}"

    def gradcam_path(self, name: str, ext: str = "npz") -> Path:
        """A set's mean Grad-CAM maps (``npz``) or their figure (``png``); ``name`` is the set's slug."""
        return self.path / f"gradcam_{name}.{ext}"

    @staticmethod
    def lock_name(fold: int | None = None) -> str:
        """``.lock`` for a whole training, ``.lock_fold<K>`` for a ``--fold K`` job."""
        return ".lock" if fold is None else f".lock_fold{fold}"

    # ---- the files found ---------------------------------------------------------------------------

    def fold_predictions(self) -> list[Path]:
        """The finished folds' predictions tables, in fold order."""
        return sorted(self.path.glob("predictions_fold*.csv"),
                      key=lambda p: int(p.stem.removeprefix("predictions_fold")))

    def finished_folds(self) -> list[int]:
        return [int(p.stem.removeprefix("predictions_fold")) for p in self.fold_predictions()]

    def prediction_tables(self) -> list[Path]:
        """Every predictions table (``predictions.csv`` and the folds'), by name."""
        return sorted(self.path.glob("predictions*.csv"))

    def histories(self) -> dict[str, Path]:
        """Each trained model's history by its name (``fold0``, ``fold0_scratch``, …), by name."""
        return {p.stem.removeprefix("history_"): p for p in sorted(self.path.glob("history_*.csv"))}

    def epoch_time_tables(self) -> dict[str, Path]:
        """Each trained model's epoch times by its name (``fold0``, ``fold0_scratch``, …), by name."""
        return {p.stem.removeprefix("epoch_times_"): p for p in sorted(self.path.glob("epoch_times_*.csv"))}

    def backups(self) -> list[Path]:
        return sorted(self.path.glob(".backup_*"))

    def model_files(self, fold: int | None = None) -> list[Path]:
        """The trained models found, by name (only fold ``fold``'s, plain one first, when given)."""
        if fold is None:
            return sorted(self.path.glob("model_*.keras"))
        return sorted(self.path.glob(f"model_fold{fold}*.keras"))

    def keras_files(self) -> list[Path]:
        """Every ``.keras`` file in the folder, by name."""
        return sorted(self.path.glob("*.keras"))

    def gradcam_maps(self) -> list[Path]:
        """The sets' saved Grad-CAM maps, by name."""
        return sorted(self.path.glob("gradcam_*.npz"))

    def has_progress(self) -> bool:
        """Whether training got anywhere: a finished fold, a history or a backup."""
        return any(self.path.glob("predictions_fold*.csv")) or any(self.path.glob("history_*.csv")) \
            or any(self.path.glob(".backup_*"))

    # ---- writing and reading -----------------------------------------------------------------------

    def write_file(self, path: Path, write: Callable[[Path], object]) -> Path:
        """Write ``path`` (one of this run's names) whole through ``write(temporary)``."""
        return write_file(self._own(path), write)

    def write_text(self, path: Path, text: str) -> Path:
        return write_text(self._own(path), text)

    def write_csv(self, path: Path, frame, index: bool = False) -> Path:
        return write_text(self._own(path), frame.to_csv(index=index))

    def write_json(self, path: Path, payload) -> Path:
        """Pretty-printed JSON (numpy values as plain ones)."""
        return write_json(self._own(path), payload)

    def _own(self, path: Path) -> Path:
        """``path``, refused unless it lies in this run."""
        path = Path(path)
        if self.path not in path.parents:
            raise ValueError(f"{path} is not a file of the run {self.path}")
        return path

    def read_json(self, path: Path):
        return json.loads(Path(path).read_text())

    def classes(self) -> list[str] | None:
        """Class order of the run: ``metrics.json``'s ``classes``, else a predictions table's columns."""
        import pandas as pd

        if self.metrics_path.is_file():
            try:
                classes = self.read_json(self.metrics_path).get("classes")
            except (OSError, ValueError, AttributeError):
                classes = None
            if classes:
                return [str(c) for c in classes]
        for table in self.prediction_tables():
            classes = classes_of(pd.read_csv(table, nrows=0))
            if classes:
                return classes
        return None
