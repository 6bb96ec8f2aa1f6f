"""Ctrl-C and SIGTERM during ``model.fit`` take effect between batches, never inside TensorFlow.

A KeyboardInterrupt raised in the middle of TensorFlow's own Python (tracing a function, creating
a variable) can be swallowed there and come out as an unrelated error with a traceback. While a
fit runs, the first SIGINT or SIGTERM is only recorded, and :class:`InterruptBetweenBatches` raises
it at the next batch or epoch boundary (after the epoch's checkpoint when it falls at an epoch's
end); a second signal raises at once. Outside a fit, signals act as before.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import keras

#: The KeyboardInterrupt message of each signal (the run's status and the one-line exit say it).
REASONS = {signal.SIGINT: "", signal.SIGTERM: "terminated (SIGTERM)"}


class InterruptBetweenBatches(keras.callbacks.Callback):
    """Raises a recorded interrupt at the next boundary; list it last, after the checkpoints."""

    def __init__(self):
        super().__init__()
        self.pending: str | None = None

    def raise_pending(self, *args, **kwargs) -> None:
        if self.pending is not None:
            reason, self.pending = self.pending, None
            raise KeyboardInterrupt(reason)

    on_train_batch_begin = on_train_batch_end = raise_pending
    on_test_batch_end = on_epoch_begin = on_epoch_end = raise_pending


@contextmanager
def interrupts_between_batches(callback: InterruptBetweenBatches):
    """Route SIGINT and SIGTERM to ``callback`` while the block (a fit) runs; restore them after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def record(signum, frame):
        if callback.pending is not None:  # asked twice: stop now
            raise KeyboardInterrupt(REASONS.get(signum, ""))
        callback.pending = REASONS.get(signum, "")

    previous = {number: signal.signal(number, record) for number in REASONS}
    try:
        yield
        callback.raise_pending()  # a signal after the last boundary
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
