"""Files written whole: a hidden temporary file beside the target, renamed into place.

A reader (a report, a resumed run, a user's script) only ever sees a whole file, and a write
that fails leaves the target as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path


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
    """Write text whole, as UTF-8 (whatever the locale says)."""
    return write_file(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, payload) -> Path:
    """Pretty-printed JSON, written whole (numpy values as plain ones)."""
    return write_text(path, json.dumps(payload, indent=2, default=_plain))


def _plain(value):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
