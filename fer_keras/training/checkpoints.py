"""Crash-safe training state: a killed run resumes at its last finished epoch and keeps its best epoch.

Keras' ``BackupAndRestore`` and ``ModelCheckpoint`` write their ``.h5`` files in place: a kill
during a write leaves a file that cannot be read, and the rerun stops on an h5py traceback. And
``ModelCheckpoint`` forgets the best value of the epochs before a resume, so a worse later epoch
replaces the best weights while the report still names the best epoch of the history.

:class:`TrainingCheckpoints` writes every file whole (temporary name + rename) under a new name per
epoch, and ``state.json`` is the one commit point: it names the epochs finished, the file of the
latest weights (optimizer state included) and the best epoch's value and file. A kill at any moment
leaves the previous commit readable; files no commit names are leftovers and are removed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import keras
import pandas as pd

from fer_keras.errors import CheckpointError
from fer_keras.atomic_write import write_file, write_text


STATE = "state.json"


def improved(value: float, best: float | None, monitor: str) -> bool:
    """Whether ``value`` beats ``best`` (lower for a loss, higher otherwise; ties keep the first)."""
    if best is None:
        return True
    return value < best if "loss" in monitor else value > best


def committed_epochs(folder: str | Path) -> int:
    """The epochs a checkpoint folder's last commit names as finished (0: none, or a state that cannot be
    read, which :meth:`TrainingCheckpoints.restore` then reports)."""
    try:
        return int(json.loads((Path(folder) / STATE).read_text())["epochs"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return 0


class TrainingCheckpoints(keras.callbacks.Callback):
    """Saves the training state after each finished epoch into ``folder``; restores it on a rerun.

    ``monitor`` (a key of the epoch logs, e.g. ``val_accuracy``) also keeps the best epoch's weights;
    ``None`` keeps only the latest. Epochs whose loss is not finite are not saved.
    """

    def __init__(self, folder: str | Path, monitor: str | None = None):
        super().__init__()
        self.folder = Path(folder)
        self.monitor = monitor
        self.state: dict = {"epochs": 0, "latest": None, "best": None, "best_value": None, "best_epoch": None}

    # ---- resuming ----------------------------------------------------------------------------------

    def restore(self, model: keras.Model) -> int:
        """Load the last committed state into ``model`` (compiled); returns the epochs already finished."""
        state_path = self.folder / STATE
        if not state_path.exists():
            if (self.folder / "training_metadata.json").exists():
                raise CheckpointError(f"{self.folder} holds a checkpoint of an older fer_keras that cannot be "
                                      f"resumed; delete that folder to train this model again from its first epoch")
            shutil.rmtree(self.folder, ignore_errors=True)  # killed before its first commit
            return 0
        try:
            self.state = json.loads(state_path.read_text())
            int(self.state["epochs"]), str(self.state["latest"]), self.state["best"]  # noqa: B018 (all there)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(f"checkpoint state {state_path} is damaged ({type(error).__name__}); delete "
                                  f"{self.folder} to train this model again from its first epoch") from None
        self.remove_leftovers()
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self.load(model, self.state["latest"])
        return int(self.state["epochs"])

    def load(self, model: keras.Model, name: str) -> None:
        """Load the weights file ``name`` of the folder, or stop with one line saying why it cannot."""
        path = self.folder / name
        try:
            model.load_weights(str(path))
        except (OSError, ValueError) as error:
            raise CheckpointError(f"cannot resume from {path}: {error}; delete {self.folder} to train this "
                                  f"model again from its first epoch") from None

    def load_best(self, model: keras.Model) -> bool:
        """Load the best epoch's weights into ``model``; False when no best epoch was kept."""
        if not self.state["best"]:
            return False
        self.load(model, self.state["best"])
        return True

    def remove(self) -> None:
        """Delete the folder (the model is trained and saved)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def remove_leftovers(self) -> None:
        """Delete the files the committed state does not name (writes a kill interrupted, older epochs)."""
        kept = {STATE, self.state["latest"], self.state["best"]}
        for path in self.folder.iterdir():
            if path.name not in kept:
                path.unlink(missing_ok=True)

    # ---- saving ------------------------------------------------------------------------------------

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not math.isfinite(float(logs.get("loss", 0.0))):
            return  # TerminateOnNaN stops the run; a rerun starts again from the last good epoch
        self.folder.mkdir(parents=True, exist_ok=True)
        state = dict(self.state, epochs=epoch + 1, latest=self.save(f"epoch{epoch + 1}.weights.h5"))
        value = logs.get(self.monitor) if self.monitor else None
        if value is not None and improved(float(value), self.state["best_value"], self.monitor):
            state.update(best=self.link(state["latest"], f"best_epoch{epoch + 1}.weights.h5"),
                         best_value=float(value), best_epoch=epoch + 1)
        write_text(self.folder / STATE, json.dumps(state, indent=2))
        self.state = state
        self.remove_leftovers()

    def save(self, name: str) -> str:
        """Write the model's weights (and optimizer state) whole as ``name`` in the folder."""
        write_file(self.folder / name, lambda temporary: self.model.save_weights(str(temporary)))
        return name

    def link(self, source: str, name: str) -> str:
        """``name`` as a second name of the folder's file ``source`` (a copy where links are not allowed)."""
        target = self.folder / name
        try:
            target.unlink(missing_ok=True)
            os.link(self.folder / source, target)
        except OSError:
            write_file(target, lambda temporary: shutil.copyfile(self.folder / source, temporary))
        return name


def keep_epochs_before(table_path: Path, epochs: int, first_epoch: int = 0) -> None:
    """Drop a per-epoch table's rows of epochs not committed (``epoch`` numbered from ``first_epoch``)."""
    if not table_path.exists():
        return
    try:
        table = pd.read_csv(table_path)
    except pd.errors.EmptyDataError:
        return
    if "epoch" not in table:
        return
    numbers = pd.to_numeric(table["epoch"], errors="coerce")
    table = table[numbers < epochs + first_epoch].drop_duplicates("epoch", keep="last")
    write_text(table_path, table.to_csv(index=False))
