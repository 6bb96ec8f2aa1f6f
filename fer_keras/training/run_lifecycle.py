"""A run's life: one training at a time in a run folder, its status, and resuming only what may resume.

:func:`open_run` locks the folder for one training, keeps ``status.json`` (running, failed with the
reason, interrupted, finished) and resumes only with the same config (else one line naming the keys
that differ); a fresh run that fails before any progress is removed again, so a failure leaves
nothing half-written.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fer_keras.output_folder import check_output_dir
from fer_keras.errors import RunDirError
from fer_keras.reports.notes import add_note
from fer_keras.rundir import RunDir

log = logging.getLogger(__name__)

#: Config keys a resumed run may change: verbosity, and the schedule's length (recorded in the notes).
RESUMABLE_CHANGES = ("runtime.verbose", "training.epochs")


def new_run_dir(out_dir: str | Path, experiment: str) -> RunDir:
    """A fresh, timestamped run directory."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(out_dir) / experiment
    path = base / stamp
    suffix = 1
    while path.exists():
        path = base / f"{stamp}-{suffix}"
        suffix += 1
    path.mkdir(parents=True)
    return RunDir(path)

@contextmanager
def open_run(config_yaml: str, run_dir: str | Path | None, out_dir: str | Path, experiment: str,
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
        for sibling in map(RunDir, sorted((Path(out_dir) / experiment).glob("*"))):
            state = read_status(sibling).get("state")
            if state in ("stale", "failed", "interrupted"):
                log.warning("unfinished run %s (%s): resume it with --out %s, or delete it",
                            sibling, state, sibling)
        run_dir = new_run_dir(out_dir, experiment).path
    run = RunDir(check_output_dir(run_dir))  # a file, under a file, not creatable or not writable: one line
    resumed = not fresh and run.config_path.exists()
    if resumed:
        check_resume(run, config_yaml)
    lock_name = RunDir.lock_name(fold)
    handle = lock(run, lock_name)
    try:
        if resumed:
            note_epoch_change(run, run.config_path.read_text(encoding="utf-8"), config_yaml)
        run.write_text(run.config_path, config_yaml)
        write_status(run, "running")
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
            write_status(run, "interrupted", str(error) or "stopped by the user")
            raise KeyboardInterrupt(f"{run.path} is kept; the same command with --out {run.path} resumes "
                                    "from its last finished epoch") from None
        else:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            write_status(run, "failed", reason)
        raise
    else:  # a --fold K job finishes its fold, not the run
        write_status(run, "finished" if fold is None else f"finished {lock_name.removeprefix('.lock_')}")
    finally:
        if handle is not None:
            handle.close()

def check_resume(run: RunDir, config_yaml: str) -> None:
    """One-line :class:`RunDirError` when the saved config differs from ``config_yaml`` (but for
    :data:`RESUMABLE_CHANGES`)."""
    changed = config_differences(run.config_path.read_text(encoding="utf-8"), config_yaml)
    if changed:
        raise RunDirError(f"{run.path} was started with another config ({', '.join(changed[:6])}"
                          f"{' …' if len(changed) > 6 else ''} differ); resume with the same config, "
                          "or start a new run with another --out")

def lock(run: RunDir, name: str = ".lock"):
    """An exclusive, non-blocking lock on the file ``name`` here (released when the handle closes)."""
    handle = open(run.path / name, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RunDirError(f"{run.path} is in use by another training; wait for it to finish, "
                          "or give this one another --out") from None
    return handle

def is_locked(run: RunDir) -> bool:
    """Whether a whole training holds this run's lock now."""
    path = run.path / RunDir.lock_name()
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False

def note_epoch_change(run: RunDir, saved_yaml: str, config_yaml: str) -> None:
    """Say in the run's notes when a resumed run was given another ``training.epochs``."""
    import pandas as pd
    import yaml

    before = ((yaml.safe_load(saved_yaml) or {}).get("training") or {}).get("epochs")
    after = ((yaml.safe_load(config_yaml) or {}).get("training") or {}).get("epochs")
    if before is not None and after is not None and before != after:
        done = sum(len(pd.read_csv(h)) for h in run.histories().values() if h.stat().st_size)
        add_note(run, "epochs_changed", before=before, after=after, done=done)
        log.warning("training.epochs changed from %s to %s on resume (noted in the run's notes)", before, after)


def write_status(run: RunDir, state: str, reason: str = "") -> None:
    """Record the run's state (``running``, ``failed`` with the one-line reason, ``finished``)."""
    run.write_json(run.status_path, {"state": state, "reason": reason, "pid": os.getpid(),
                                  "time": datetime.now().isoformat(timespec="seconds")})

def read_status(run: RunDir) -> dict:
    """The run's status (empty when the run predates it). A status that says ``running`` while no
    process holds the run's lock (killed by SIGKILL or out of memory) reads as ``stale``."""
    try:
        status = run.read_json(run.status_path)
    except (OSError, ValueError):
        return {}
    if status.get("state") == "running" and not is_locked(run):
        status = {**status, "state": "stale",
                  "reason": f"it said running (pid {status.get('pid')}), but that process is gone: killed"}
    return status


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
