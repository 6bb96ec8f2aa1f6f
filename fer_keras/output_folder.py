"""A command's ``--out`` folder: checked before any work, removed again when the command fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fer_keras.errors import PartialOutputError, UserError


def check_output_dir(out: str | Path, files: list[str] = (), force: bool = True) -> Path:
    """Make sure ``out`` can take ``files`` before any work is done; one-line UserError otherwise.

    ``out`` must be (or become) a writable folder; none of ``files`` may be a folder; without
    ``force`` none of them may exist yet (the command would overwrite them).
    """
    out = Path(out).expanduser()  # "~/x" in quotes reaches here unexpanded by the shell
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {out}: {folder} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--out {out}: cannot create it ({error.strerror or error})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: not writable")
    for name in files:
        target = out / name
        if target.is_dir() and "." in name:
            raise UserError(f"--out {out}: {target} is a folder; remove it or choose another --out")
        if target.exists() and not force:
            raise UserError(f"--out {out} already holds {name}; add --force to replace it, or choose another --out")
    return out


@contextmanager
def output_dir(out: str | Path, files: list[str] = (), force: bool = True) -> Iterator[Path]:
    """:func:`check_output_dir` for a command's whole work: if the command fails, the folders it had to
    create are removed again with what it wrote into them, so a failed command leaves no new ``--out``
    (a folder that existed before keeps what it held; a command stopped with Ctrl-C keeps its output)."""
    out = Path(out)
    created = [folder for folder in (out, *out.parents) if not folder.exists()]  # deepest first
    try:
        yield check_output_dir(out, files, force)
    except Exception as error:  # an error; what a Ctrl-C interrupted (or a PartialOutputError kept) stays
        if created and not isinstance(error, PartialOutputError):
            shutil.rmtree(created[-1], ignore_errors=True)
        raise
