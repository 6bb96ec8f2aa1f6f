"""What every command line shares: quiet TensorFlow logs, user errors as one line, exit codes."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from fer_keras.errors import UserError

#: Errors caused by the user's input (config, data, model choice): shown as one line.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError)


def run_cli(command: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run ``command``; a user error prints ``error: <one line>`` and exits 2 instead of a traceback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return command(argv)
    except USER_ERRORS as error:
        if os.environ.get("FER_KERAS_DEBUG"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
