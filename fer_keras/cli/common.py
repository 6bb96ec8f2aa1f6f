"""What every command line shares: its parser, user errors as one line, exit codes, SIGTERM as Ctrl-C."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from fer_keras.errors import UserError

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
