"""fer_keras/training/interrupts.py: a signal during fit stops it between batches, from Python."""

import os
import signal

import keras
import numpy as np
import pytest

from fer_keras.training.interrupts import InterruptBetweenBatches, interrupts_between_batches


class SignalAt(keras.callbacks.Callback):
    """Sends ``signum`` to this process after batch ``at`` (``times`` times); counts the batches that began."""

    def __init__(self, signum, at, times=1):
        super().__init__()
        self.signum, self.at, self.times, self.begun = signum, at, times, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.begun += 1

    def on_train_batch_end(self, batch, logs=None):
        if self.begun == self.at + 1:
            for _ in range(self.times):
                try:
                    os.kill(os.getpid(), self.signum)
                except KeyboardInterrupt:  # the second signal raises at once
                    raise


def tiny_fit(*callbacks):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.zeros((64, 4), np.float32), np.zeros(64, np.int32)
    interrupt = InterruptBetweenBatches()
    with interrupts_between_batches(interrupt):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[*callbacks, interrupt])


@pytest.mark.parametrize("signum, reason", [(signal.SIGINT, ""), (signal.SIGTERM, "terminated (SIGTERM)")])
def test_a_signal_stops_the_fit_at_the_next_batch(signum, reason):
    before = signal.getsignal(signum)
    sender = SignalAt(signum, at=2)
    with pytest.raises(KeyboardInterrupt) as stopped:
        tiny_fit(sender)
    assert str(stopped.value) == reason
    assert sender.begun == 3  # recorded after batch 3, raised before batch 4 began
    assert signal.getsignal(signum) is before  # handlers restored


def test_a_second_signal_raises_at_once():
    sender = SignalAt(signal.SIGINT, at=1, times=2)
    with pytest.raises(KeyboardInterrupt):
        tiny_fit(sender)
    assert sender.begun == 2
