"""Silencing what C++ libraries (TensorFlow, LiteRT) print straight to file descriptor 2.

Their info lines ("Created TensorFlow Lite XNNPACK delegate for CPU", CUDA probes) bypass Python's
logging and ``TF_CPP_MIN_LOG_LEVEL``; :func:`quiet_stderr` points descriptor 2 at the null device
for a block; :func:`load_tensorflow_quietly` imports TensorFlow inside one. ``FER_KERAS_DEBUG`` set in
the environment keeps everything visible.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Discard what the block writes to file descriptor 2 (Python's own exceptions still propagate)."""
    if os.environ.get("FER_KERAS_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with the process's stderr silenced.

    TensorFlow's C++ side prints absl/CUDA-probe lines straight to file descriptor 2 on import and on
    first device use (``TF_CPP_MIN_LOG_LEVEL`` does not reach all of them), so a user error that
    comes after TensorFlow loads would otherwise arrive under six lines of noise. A failed import
    is re-raised with the output restored.
    """
    if "tensorflow" in sys.modules or os.environ.get("FER_KERAS_DEBUG"):
        return
    with quiet_stderr():
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except Exception:  # noqa: BLE001 - shown again below with stderr restored
            pass
    import tensorflow  # noqa: F401  (raises here, visibly, if the silenced import failed)
