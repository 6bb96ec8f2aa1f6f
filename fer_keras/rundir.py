"""Run directories: :class:`RunDir` names a run's files, writes them whole, and owns its lock and status.

A run lives in ``<out_dir>/<experiment>/<timestamp>/`` (or ``--out``). Every file is written to a
hidden temporary name in the same folder and renamed into place, so a reader (the report, a
resumed run) only ever sees whole files. :meth:`RunDir.open` locks the folder for one training,
keeps ``status.json`` (running, failed with the reason, finished) and resumes only with the same
config (else one line naming the keys that differ).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fer_keras.cli import check_output_dir
from fer_keras.labels import classes_of
from fer_keras.errors import RunDirError

log = logging.getLogger(__name__)

#: Config keys a resumed run may change: verbosity, and the schedule's length (recorded in the notes).
RESUMABLE_CHANGES = ("runtime.verbose", "training.epochs")


def write_file(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` whole: ``write`` fills a hidden temporary file beside it, which is then renamed.

    When ``write`` fails, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    temporary = path.with_name(f".tmp_{path.name}")
    try:
        write(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically (temporary file + rename)."""
    return write_file(path, lambda temporary: temporary.write_text(text))


def _plain(value):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


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
    def config(self) -> Path:
        """The resolved config the run was started with."""
        return self.path / "config.yaml"

    @property
    def status(self) -> Path:
        """running / failed (with the reason) / finished."""
        return self.path / "status.json"

    @property
    def metrics(self) -> Path:
        """Class order and measured metrics per result (written by the report)."""
        return self.path / "metrics.json"

    @property
    def notes(self) -> Path:
        """Lines the report shows under "Notes"."""
        return self.path / "notes.txt"

    @property
    def splits(self) -> Path:
        return self.path / "splits.json"

    @property
    def split_counts(self) -> Path:
        return self.path / "split_counts.csv"

    @property
    def split_protocol(self) -> Path:
        return self.path / "split_protocol.json"

    @property
    def data_counts(self) -> Path:
        return self.path / "data_counts.csv"

    @property
    def excluded(self) -> Path:
        return self.path / "excluded.csv"

    @property
    def environment(self) -> Path:
        """The hardware and versions of each session that trained the run."""
        return self.path / "environment.json"

    @property
    def baselines(self) -> Path:
        return self.path / "baselines.csv"

    @property
    def samples(self) -> Path:
        """A few evaluation images for the report's emotion-analysis figure."""
        return self.path / "samples.npz"

    @property
    def all_predictions(self) -> Path:
        """Every finished fold's predictions in one table (written by the report)."""
        return self.path / "predictions.csv"

    @property
    def report_markdown(self) -> Path:
        return self.path / "report.md"

    @property
    def report_html(self) -> Path:
        return self.path / "report.html"

    @property
    def learning_curves(self) -> Path:
        return self.path / "learning_curves.png"

    @property
    def folds_boxplot(self) -> Path:
        return self.path / "folds_boxplot.png"

    @property
    def emotion_analysis(self) -> Path:
        return self.path / "emotion_analysis.png"

    @property
    def gradcam_comparison(self) -> Path:
        return self.path / "gradcam_comparison.csv"

    @property
    def source(self) -> RunDir:
        """A transfer run's source stage, a run of its own inside this one."""
        return RunDir(self.path / "source")

    def predictions(self, fold: int) -> Path:
        """Fold ``fold``'s predictions; its presence means the fold is finished."""
        return self.path / f"predictions_fold{fold}.csv"

    def model(self, fold: int = 0, tag: str = "") -> Path:
        """Fold ``fold``'s trained model (``tag``: ``_<variant>`` of a transfer run)."""
        return self.path / f"model_fold{fold}{tag}.keras"

    def tflite(self, fold: int = 0, tag: str = "") -> Path:
        """The float32 TFLite twin of :meth:`model`."""
        return self.model(fold, tag).with_suffix(".tflite")

    def history(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s per-epoch history (Keras ``CSVLogger``)."""
        return self.path / f"history_fold{fold}{tag}.csv"

    def epoch_times(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s wall-clock seconds per epoch."""
        return self.path / f"epoch_times_fold{fold}{tag}.csv"

    def backup(self, fold: int, tag: str = "") -> Path:
        """Fold ``fold``'s checkpoint folder while it trains (latest and best epoch, :mod:`.checkpoints`)."""
        return self.path / f".backup_fold{fold}{tag}"

    def tensorboard(self, fold: int, tag: str = "") -> Path:
        return self.path / "tensorboard" / f"fold{fold}{tag}"

    def confusion_matrix(self, suffix: str = "", ext: str = "csv") -> Path:
        """A result's confusion matrix (``suffix``: ``_<test set>`` when a run has several)."""
        return self.path / f"confusion_matrix{suffix}.{ext}"

    def per_class_accuracy(self, suffix: str = "", ext: str = "csv") -> Path:
        return self.path / f"per_class_accuracy{suffix}.{ext}"

    def gradcam(self, name: str, ext: str = "npz") -> Path:
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
        path = Path(path)
        if self.path not in path.parents:
            raise ValueError(f"{path} is not a file of the run {self.path}")
        return write_file(path, write)

    def write_text(self, path: Path, text: str) -> Path:
        return self.write_file(path, lambda temporary: temporary.write_text(text))

    def write_csv(self, path: Path, frame, index: bool = False) -> Path:
        return self.write_text(path, frame.to_csv(index=index))

    def write_json(self, path: Path, payload) -> Path:
        """Pretty-printed JSON (numpy values as plain ones)."""
        return self.write_text(path, json.dumps(payload, indent=2, default=_plain))

    def read_json(self, path: Path):
        return json.loads(Path(path).read_text())

    def add_note(self, text: str) -> None:
        """Add a line to the run's notes (shown in the report), once."""
        notes = self.notes.read_text().splitlines() if self.notes.exists() else []
        if text not in notes:
            self.write_text(self.notes, "\n".join(notes + [text]) + "\n")

    def write_status(self, state: str, reason: str = "") -> None:
        """Record the run's state (``running``, ``failed`` with the one-line reason, ``finished``)."""
        self.write_json(self.status, {"state": state, "reason": reason, "pid": os.getpid(),
                                      "time": datetime.now().isoformat(timespec="seconds")})

    def read_status(self) -> dict:
        """The run's status (empty when the run predates it). A status that says ``running`` while no
        process holds the run's lock (killed by SIGKILL or out of memory) reads as ``stale``."""
        try:
            status = self.read_json(self.status)
        except (OSError, ValueError):
            return {}
        if status.get("state") == "running" and not self.locked():
            status = {**status, "state": "stale",
                      "reason": f"it said running (pid {status.get('pid')}), but that process is gone: killed"}
        return status

    def classes(self) -> list[str] | None:
        """Class order of the run: ``metrics.json``'s ``classes``, else a predictions table's columns."""
        import pandas as pd

        if self.metrics.is_file():
            try:
                classes = self.read_json(self.metrics).get("classes")
            except (OSError, ValueError, AttributeError):
                classes = None
            if classes:
                return [str(c) for c in classes]
        for table in self.prediction_tables():
            classes = classes_of(pd.read_csv(table, nrows=0))
            if classes:
                return classes
        return None

    # ---- one training at a time --------------------------------------------------------------------

    @classmethod
    def new(cls, out_dir: str | Path, experiment: str) -> RunDir:
        """A fresh, timestamped run directory."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(out_dir) / experiment
        path = base / stamp
        suffix = 1
        while path.exists():
            path = base / f"{stamp}-{suffix}"
            suffix += 1
        path.mkdir(parents=True)
        return cls(path)

    @classmethod
    @contextmanager
    def open(cls, config_yaml: str, run_dir: str | Path | None, out_dir: str | Path, experiment: str,
             fold: int | None = None):
        """The run directory for one training, locked, with its status kept; yields its RunDir.

        - a new directory (none given, or ``--out`` not there yet) is created; if the run fails before
          any fold finished, it is removed again, so a failure leaves nothing half-written;
        - an existing directory is resumed only with the same config (else one line naming the keys), but
          for ``runtime.verbose`` and ``training.epochs`` (a longer or shorter schedule; the notes say so);
        - a second training on the same directory gets one line instead of a crash; separate
          ``--fold K`` jobs (``fold``) lock ``.lock_fold<K>`` and may share a directory;
        - ``status.json`` says running, then failed (with the reason), interrupted (Ctrl-C or SIGTERM: the
          KeyboardInterrupt raised on says how to resume) or finished.
        """
        run_dir = Path(run_dir).expanduser() if run_dir is not None else None
        fresh = run_dir is None or not run_dir.exists()
        target = Path(run_dir) if run_dir is not None else Path(out_dir) / experiment / "_"
        created = [p for p in (target, *target.parents) if not p.exists()]  # removed again if the run fails
        if run_dir is None:
            for sibling in map(cls, sorted((Path(out_dir) / experiment).glob("*"))):
                state = sibling.read_status().get("state")
                if state in ("stale", "failed", "interrupted"):
                    log.warning("unfinished run %s (%s): resume it with --out %s, or delete it",
                                sibling, state, sibling)
            run_dir = cls.new(out_dir, experiment).path
        run = cls(check_output_dir(run_dir))  # a file, under a file, not creatable or not writable: one line
        resumed = not fresh and run.config.exists()
        if resumed:
            run.check_resume(config_yaml)
        lock_name = cls.lock_name(fold)
        handle = run.lock(lock_name)
        try:
            if resumed:
                run._note_epoch_change(run.config.read_text(), config_yaml)
            run.write_text(run.config, config_yaml)
            run.write_status("running")
            yield run
        except BaseException as error:
            # a fresh run that failed before training anything is removed; one with training progress
            # (a history, a backup, a finished fold) or stopped by the user (Ctrl-C) stays resumable
            if fresh and not run.has_progress() and isinstance(error, Exception):
                handle.close()
                handle = None
                shutil.rmtree(run.path, ignore_errors=True)
                for folder in created:
                    if folder.is_dir() and not any(folder.iterdir()):
                        folder.rmdir()
            elif isinstance(error, KeyboardInterrupt):  # Ctrl-C, or SIGTERM (run_cli turns it into one)
                run.write_status("interrupted", str(error) or "stopped by the user")
                raise KeyboardInterrupt(f"{run.path} is kept; the same command with --out {run.path} resumes "
                                        "from its last finished epoch") from None
            else:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                run.write_status("failed", reason)
            raise
        else:  # a --fold K job finishes its fold, not the run
            run.write_status("finished" if fold is None else f"finished {lock_name.removeprefix('.lock_')}")
        finally:
            if handle is not None:
                handle.close()

    def check_resume(self, config_yaml: str) -> None:
        """One-line :class:`RunDirError` when the saved config differs from ``config_yaml`` (but for
        :data:`RESUMABLE_CHANGES`)."""
        changed = config_differences(self.config.read_text(), config_yaml)
        if changed:
            raise RunDirError(f"{self.path} was started with another config ({', '.join(changed[:6])}"
                              f"{' …' if len(changed) > 6 else ''} differ); resume with the same config, "
                              "or start a new run with another --out")

    def lock(self, name: str = ".lock"):
        """An exclusive, non-blocking lock on the file ``name`` here (released when the handle closes)."""
        handle = open(self.path / name, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RunDirError(f"{self.path} is in use by another training; wait for it to finish, "
                              "or give this one another --out") from None
        return handle

    def locked(self) -> bool:
        """Whether a whole training holds this run's lock now."""
        path = self.path / self.lock_name()
        if not path.exists():
            return False
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    def _note_epoch_change(self, saved_yaml: str, config_yaml: str) -> None:
        """Say in the run's notes when a resumed run was given another ``training.epochs``."""
        import pandas as pd
        import yaml

        before = ((yaml.safe_load(saved_yaml) or {}).get("training") or {}).get("epochs")
        after = ((yaml.safe_load(config_yaml) or {}).get("training") or {}).get("epochs")
        if before is not None and after is not None and before != after:
            done = sum(len(pd.read_csv(h)) for h in self.histories().values() if h.stat().st_size)
            self.add_note(f"training.epochs changed from {before} to {after} when this run resumed after {done} "
                          "finished epoch(s); those epochs keep the schedule they ran with, and a cosine "
                          "learning-rate schedule continues from there as one over the new total.")
            log.warning("training.epochs changed from %s to %s on resume (noted in the run's notes)", before, after)


def _flat(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = value
    return flat


def config_differences(saved_yaml: str, config_yaml: str) -> list[str]:
    """Dotted keys whose values differ between two resolved configs (``runtime.verbose`` ignored).

    The saved config is read through today's schema first, so a key added to fer_keras since the
    run started (present here with its default) is not a difference.
    """
    import yaml

    old, new = yaml.safe_load(saved_yaml) or {}, yaml.safe_load(config_yaml) or {}
    try:
        from fer_keras.config import ExperimentConfig

        old = ExperimentConfig.model_validate(old).model_dump(mode="json")
    except ValueError:  # a saved config today's schema refuses: compare the raw keys
        pass
    old, new = _flat(old), _flat(new)
    return [key for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key) and key not in RESUMABLE_CHANGES]
