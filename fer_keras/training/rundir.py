"""Run directories: where they go, who owns them, and writing files so a killed run never leaves half a file.

A run lives in ``<out_dir>/<experiment>/<timestamp>/``. Every file is written to a hidden
temporary name in the same folder and renamed into place, so a reader (the report, a
resumed run) only ever sees whole files.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd

from fer_keras.cli import check_output_dir
from fer_keras.errors import UserError

log = logging.getLogger(__name__)


def new_run_dir(out_dir: str | Path, experiment: str) -> Path:
    """A fresh, timestamped run directory."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(out_dir) / experiment
    path = base / stamp
    suffix = 1
    while path.exists():
        path = base / f"{stamp}-{suffix}"
        suffix += 1
    path.mkdir(parents=True)
    return path


def write_text(path: Path, text: str) -> None:
    """Write text atomically (temporary file + rename)."""
    temporary = path.with_name(f".tmp_{path.name}")
    temporary.write_text(text)
    os.replace(temporary, path)


def write_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> None:
    """Write a CSV atomically."""
    write_text(path, frame.to_csv(index=index))


def write_json(payload, path: Path) -> None:
    """Write JSON atomically (pretty-printed)."""
    write_text(path, json.dumps(payload, indent=2, default=_plain))


def read_json(path: Path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def _plain(value):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def add_note(run_dir: Path, text: str) -> None:
    """Add a line to the run's ``notes.txt`` (shown in the report), once."""
    path = Path(run_dir) / "notes.txt"
    notes = path.read_text().splitlines() if path.exists() else []
    if text not in notes:
        write_text(path, "\n".join(notes + [text]) + "\n")


class RunDirError(UserError):
    """A run directory that cannot be used as asked (in use, or resumed with another config)."""


#: What a run directory says about itself (``status.json``): running / failed / finished.
STATUS_FILE = "status.json"
#: Config keys a resumed run may change: verbosity, and the schedule's length (recorded in the notes).
RESUMABLE_CHANGES = ("runtime.verbose", "training.epochs")


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


def write_status(run_dir: Path, state: str, reason: str = "") -> None:
    """Record the run's state (``running``, ``failed`` with the one-line reason, ``finished``)."""
    write_json({"state": state, "reason": reason, "pid": os.getpid(),
                "time": datetime.now().isoformat(timespec="seconds")}, Path(run_dir) / STATUS_FILE)


def read_status(run_dir: Path) -> dict:
    """The run's ``status.json`` (empty when the run predates it)."""
    path = Path(run_dir) / STATUS_FILE
    try:
        return read_json(path)
    except (OSError, ValueError):
        return {}


@contextmanager
def open_run(config_yaml: str, run_dir: Path | None, out_dir: str | Path, experiment: str, lock_name: str = ".lock"):
    """The run directory for one training, locked, with its status kept; yields its path.

    - a new directory (none given, or ``--out`` not there yet) is created; if the run fails before
      any fold finished, it is removed again, so a failure leaves nothing half-written;
    - an existing directory is resumed only with the same config (else one line naming the keys), but
      for ``runtime.verbose`` and ``training.epochs`` (a longer or shorter schedule; the notes say so);
    - a second training on the same directory (same ``lock_name``) gets one line instead of a crash;
      separate ``--fold K`` jobs lock ``.lock_fold<K>`` and may share a directory;
    - ``status.json`` says running, then failed (with the reason) or finished.
    """
    fresh = run_dir is None or not Path(run_dir).exists()
    target = Path(run_dir) if run_dir is not None else Path(out_dir) / experiment / "_"
    created = [p for p in (target, *target.parents) if not p.exists()]  # removed again if the run fails
    if run_dir is None:
        for sibling in sorted((Path(out_dir) / experiment).glob("*")):
            state = read_status(sibling).get("state")
            if state in ("running", "failed") and not _locked(sibling):
                log.warning("unfinished run %s (%s): resume it with --out %s, or delete it", sibling, state, sibling)
        run_dir = new_run_dir(out_dir, experiment)
    run_dir = check_output_dir(run_dir)  # a file, under a file, not creatable or not writable: one line
    saved = run_dir / "config.yaml"
    if not fresh and saved.exists():
        changed = config_differences(saved.read_text(), config_yaml)
        if changed:
            raise RunDirError(f"{run_dir} was started with another config ({', '.join(changed[:6])}"
                              f"{' …' if len(changed) > 6 else ''} differ); resume with the same config, "
                              "or start a new run with another --out")
    handle = _lock(run_dir, lock_name)
    try:
        if not fresh and saved.exists():
            _note_epoch_change(run_dir, saved.read_text(), config_yaml)
        write_text(saved, config_yaml)
        write_status(run_dir, "running")
        yield run_dir
    except BaseException as error:
        # a fresh run that failed before training anything is removed; one with training progress
        # (a history, a backup, a finished fold) or stopped by the user (Ctrl-C) stays resumable
        progress = any(run_dir.glob("predictions_fold*.csv")) or any(run_dir.glob("history_*.csv")) \
            or any(run_dir.glob(".backup_*"))
        if fresh and not progress and isinstance(error, Exception):
            handle.close()
            handle = None
            shutil.rmtree(run_dir, ignore_errors=True)
            for folder in created:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        else:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            write_status(run_dir, "failed", reason)
        raise
    else:  # a --fold K job finishes its fold, not the run
        write_status(run_dir, "finished" if lock_name == ".lock" else f"finished {lock_name.removeprefix('.lock_')}")
    finally:
        if handle is not None:
            handle.close()


def _note_epoch_change(run_dir: Path, saved_yaml: str, config_yaml: str) -> None:
    """Say in the run's notes when a resumed run was given another ``training.epochs``."""
    import yaml

    before = ((yaml.safe_load(saved_yaml) or {}).get("training") or {}).get("epochs")
    after = ((yaml.safe_load(config_yaml) or {}).get("training") or {}).get("epochs")
    if before is not None and after is not None and before != after:
        done = sum(len(pd.read_csv(h)) for h in run_dir.glob("history_*.csv") if h.stat().st_size)
        add_note(run_dir, f"training.epochs changed from {before} to {after} when this run resumed after {done} "
                          "finished epoch(s); those epochs keep the schedule they ran with, and a cosine "
                          "learning-rate schedule continues from there as one over the new total.")
        log.warning("training.epochs changed from %s to %s on resume (noted in the run's notes)", before, after)


def _lock(run_dir: Path, name: str):
    """An exclusive, non-blocking lock on ``run_dir/name`` (released when the handle closes)."""
    handle = open(run_dir / name, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RunDirError(f"{run_dir} is in use by another training; wait for it to finish, "
                          "or give this one another --out") from None
    return handle


def _locked(run_dir: Path) -> bool:
    path = run_dir / ".lock"
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
