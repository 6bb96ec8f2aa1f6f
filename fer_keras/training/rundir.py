"""Run directories: where they go, and writing files so a killed run never leaves half a file.

A run lives in ``<out_dir>/<experiment>/<timestamp>/``. Every file is written to a hidden
temporary name in the same folder and renamed into place, so a reader (the report, a
resumed run) only ever sees whole files.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pandas as pd


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
