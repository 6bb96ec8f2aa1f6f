"""What every command line shares: quiet TensorFlow logs, user errors as one line, exit codes, the ``--out`` check."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fer_keras.errors import PartialOutputError, UserError

#: errno values of a full disk or an exhausted quota: one line, not a traceback.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
#: Errors caused by the user's input (config, data, model choice): shown as one line.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError)


def command_parser(module: str, doc: str) -> argparse.ArgumentParser:
    """The parser of ``python -m <module>`` (or its console script): ``--help`` shows the module's whole docstring.

    The first line becomes the usage summary's neighbour, the rest keeps its paragraphs; reST
    double backticks are shown as plain text. The program name is the console script's
    (``fer-predict``) when that is how the command was started.
    """
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    prog = script if script.startswith("fer-") else f"python -m {module}"
    text = re.sub(r"``([^`]+)``", r"\1", doc.strip())
    return argparse.ArgumentParser(prog=prog, description=text, formatter_class=argparse.RawDescriptionHelpFormatter)


def run_cli(command: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run ``command``; a user error prints ``error: <one line>`` and exits 2 instead of a traceback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    previous = _terminate_as_interrupt()
    try:
        return command(argv)
    except KeyboardInterrupt as error:  # Ctrl-C or SIGTERM: one line, whatever was written is kept
        if os.environ.get("FER_KERAS_DEBUG"):
            raise
        print(f"interrupted: {error}" if str(error) else "interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        if os.environ.get("FER_KERAS_DEBUG"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno not in DISK_FULL or os.environ.get("FER_KERAS_DEBUG"):
            raise
        where = f" writing {error.filename}" if error.filename else ""
        print(f"error: the disk is full{where} ({error.strerror}); free space and run the same command again "
              "(a training resumes from its last finished epoch)", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_as_interrupt():
    """SIGTERM (``kill``, a scheduler's stop) raises KeyboardInterrupt, so a run is closed as after Ctrl-C
    (status ``interrupted``, rows kept) instead of dying mid-write; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM)")

    return signal.signal(signal.SIGTERM, interrupt)


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


def load_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with the process's stderr silenced.

    TensorFlow's C++ side prints absl/CUDA-probe lines straight to file descriptor 2 on import and on
    first device use (``TF_CPP_MIN_LOG_LEVEL`` does not reach all of them), so a user error that
    comes after TensorFlow loads would otherwise arrive under six lines of noise. A failed import
    is re-raised with the output restored.
    """
    if "tensorflow" in sys.modules or os.environ.get("FER_KERAS_DEBUG"):
        return
    from fer_keras.quiet import quiet_stderr

    with quiet_stderr():
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except Exception:  # noqa: BLE001 - shown again below with stderr restored
            pass
    import tensorflow  # noqa: F401  (raises here, visibly, if the silenced import failed)
