"""What a training ran on and how long it took: ``environment.json`` and ``epoch_times_fold{k}.csv``.

``environment.json`` gets one entry per session of the run (a resumed run may continue on
another machine): when it started, the CPU and its cores, the GPUs TensorFlow sees, the dtype
policy ``runtime.mixed_precision`` resolved to on that machine, and the versions. :class:`EpochTimer` adds a row per finished epoch (its 1-based number and seconds,
wall-clock, so a paused process shows up in the time); a rerun epoch keeps its last row.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import datetime

import keras
import pandas as pd
import tensorflow as tf

from fer_keras.rundir import RunDir

TIME_COLUMNS = ["epoch", "seconds", "ended"]


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what :mod:`platform` says."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def gpu_names() -> list[str]:
    """The GPUs TensorFlow can use, by device name where it tells one."""
    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    return names


def machine(precision: str | None = None) -> dict:
    """This session's hardware, dtype policy (when given) and versions."""
    return {
        "started": datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "gpus": gpu_names(),
        **({"precision": precision} if precision else {}),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def record_environment(run: RunDir, precision: str | None = None) -> None:
    """Add this session (and the dtype policy it trains under) to the run's ``environment.json``."""
    sessions = run.read_json(run.environment_path) if run.environment_path.exists() else []
    run.write_json(run.environment_path, sessions + [machine(precision)])


class EpochTimer(keras.callbacks.Callback):
    """Appends each finished epoch's wall-clock seconds to the run's ``epoch_times_fold{k}{tag}.csv``."""

    def __init__(self, run: RunDir, fold: int, tag: str = ""):
        super().__init__()
        self.run, self.path = run, run.epoch_times_path(fold, tag)
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        table = pd.read_csv(self.path) if self.path.exists() else pd.DataFrame(columns=TIME_COLUMNS)
        row = {"epoch": epoch + 1, "seconds": round(time.monotonic() - self.started, 1),
               "ended": datetime.now().isoformat(timespec="seconds")}
        self.run.write_csv(self.path, pd.concat([table, pd.DataFrame([row])], ignore_index=True))
