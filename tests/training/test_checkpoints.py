"""fer_keras/training/checkpoints.py: a kill at any moment leaves a state to resume from, best epoch kept."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from fer_keras.config import load_config
from fer_keras.rundir import RunDir
from fer_keras.errors import CheckpointError
from fer_keras.training.checkpoints import TrainingCheckpoints, keep_epochs_before
from fer_keras.training.fit import compile_model, fit


class Killed(BaseException):
    """Stands for the SIGKILL that stopped the process in the middle of a write."""


def tiny_model() -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(7, activation="softmax")])


def tiny_data() -> tf.data.Dataset:
    generator = np.random.default_rng(0)
    images = generator.normal(size=(32, 4)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((images, generator.integers(0, 7, 32))).batch(8)


def compiled(config=None) -> keras.Model:
    """A compiled tiny model whose optimizer state exists, as after a training step."""
    model = compile_model(tiny_model(), config or load_config("quickstart.yaml"))
    model.optimizer.build(model.trainable_variables)
    return model


def test_a_kill_inside_a_checkpoint_write_resumes_from_the_last_whole_epoch(tmp_path, monkeypatch):
    # CI: a SIGKILL during Keras' in-place backup write left a torn latest.weights.h5, and the rerun
    # stopped on "OSError: Unable to synchronously open file (bad object header version number)".
    config = load_config("quickstart.yaml", ["training.epochs=4", "training.checkpoint_best=false",
                                             "runtime.verbose=0"])
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    save_weights, calls, torn = keras.Model.save_weights, [], {}

    def tearing_save(model, filepath, *args, **kwargs):
        calls.append(filepath)
        save_weights(model, filepath, *args, **kwargs)
        if len(calls) == 3:  # the checkpoint of epoch 3: half of it reaches the disk
            with open(filepath, "r+b") as file:
                file.truncate(file.seek(0, 2) // 2)
            torn[filepath] = open(filepath, "rb").read()
            raise Killed

    monkeypatch.setattr(keras.Model, "save_weights", tearing_save)
    with pytest.raises(Killed):
        fit(compiled(config), tiny_data(), tiny_data(), config, run)
    monkeypatch.undo()
    for path, data in torn.items():  # a SIGKILL runs no clean-up: what was half-written stays
        open(path, "wb").write(data)

    history = fit(compiled(config), tiny_data(), tiny_data(), config, run)

    assert history["epoch"].tolist() == [0, 1, 2, 3]  # epoch 3 rerun once, none missing or repeated
    times = pd.read_csv(run.epoch_times_path(0))
    assert times["epoch"].tolist() == [1, 2, 3, 4]
    assert run.model_path(0).exists() and not run.backup_path(0).exists()


def checkpoints_of(folder, model) -> TrainingCheckpoints:
    checkpoints = TrainingCheckpoints(folder, monitor="val_accuracy")
    checkpoints.set_model(model)
    return checkpoints


def finish_epoch(checkpoints, model, epoch, accuracy, loss=1.0):
    """Weights that say which epoch they come from, then the epoch's end."""
    model.layers[0].kernel.assign(np.full((4, 7), epoch, "float32"))
    checkpoints.on_epoch_end(epoch, {"loss": loss, "val_accuracy": accuracy})


def epoch_in(model) -> float:
    return float(model.layers[0].kernel.numpy()[0, 0])


def test_the_best_epoch_before_a_resume_is_not_replaced_by_a_worse_one_after(tmp_path):
    model = compiled()
    first = checkpoints_of(tmp_path / "state", model)
    for epoch, accuracy in enumerate([0.5, 0.9, 0.6]):
        finish_epoch(first, model, epoch, accuracy)

    resumed_model = compiled()
    resumed = checkpoints_of(tmp_path / "state", resumed_model)
    assert resumed.restore(resumed_model) == 3 and epoch_in(resumed_model) == 2  # the latest epoch's weights
    finish_epoch(resumed, resumed_model, 3, 0.7)  # better than nothing, worse than epoch 2 (index 1)

    assert resumed.load_best(resumed_model) and epoch_in(resumed_model) == 1
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["best_epoch"] == 2 and state["best_value"] == 0.9 and state["epochs"] == 4
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [
        "best_epoch2.weights.h5", "epoch4.weights.h5", "state.json"]  # older epochs removed


def test_an_epoch_with_a_nan_loss_is_not_saved(tmp_path):
    model = compiled()
    checkpoints = checkpoints_of(tmp_path / "state", model)
    finish_epoch(checkpoints, model, 0, 0.5)
    finish_epoch(checkpoints, model, 1, 0.8, loss=float("nan"))
    assert checkpoints.restore(compiled()) == 1


def test_a_folder_killed_before_its_first_commit_starts_over(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / ".tmp_epoch1.weights.h5").write_bytes(b"torn")
    model = compiled()
    assert checkpoints_of(folder, model).restore(model) == 0 and not folder.exists()


def test_unreadable_checkpoints_stop_with_one_line_naming_the_folder(tmp_path):
    model = compiled()
    old = tmp_path / "old"
    old.mkdir()
    (old / "training_metadata.json").write_text('{"epoch": 3, "batch": 0}')
    with pytest.raises(CheckpointError, match="older fer_keras.*delete that folder"):
        checkpoints_of(old, model).restore(model)

    broken = tmp_path / "broken"
    finish_epoch(checkpoints_of(broken, model), model, 0, 0.5)
    (broken / "epoch1.weights.h5").write_bytes(b"not an h5 file")
    with pytest.raises(CheckpointError, match=f"cannot resume from .*epoch1.weights.h5.*delete {broken}") as error:
        checkpoints_of(broken, model).restore(model)
    assert "\n" not in str(error.value)


def test_per_epoch_tables_keep_only_the_committed_epochs(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss\n0,1.9\n1,1.7\n2,1.6\n2,1.6\n3,1.5\n")
    keep_epochs_before(history, 3)
    assert pd.read_csv(history)["epoch"].tolist() == [0, 1, 2]
    times = tmp_path / "times.csv"
    times.write_text("epoch,seconds\n1,2.0\n2,2.1\n3,2.2\n")
    keep_epochs_before(times, 2, first_epoch=1)
    assert pd.read_csv(times)["epoch"].tolist() == [1, 2]


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a mapping"])
def test_r3_20_a_damaged_state_file_stops_with_one_line(tmp_path, damage):
    """Audit round three, case 20: a cut-short .backup_fold0/state.json was a JSONDecodeError traceback."""
    model = compiled()
    folder = tmp_path / "state"
    finish_epoch(checkpoints_of(folder, model), model, 0, 0.5)
    state = folder / "state.json"
    state.write_text({"truncated": state.read_text()[:20], "empty": "", "not a mapping": "[1, 2]"}[damage])
    with pytest.raises(CheckpointError, match=rf"checkpoint state {state} is damaged .*; delete {folder} to train") as error:
        checkpoints_of(folder, model).restore(model)
    assert "\n" not in str(error.value)
