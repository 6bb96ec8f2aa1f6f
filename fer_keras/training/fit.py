"""The one training loop every experiment uses: compile from config, callbacks, fit, best weights.

Callbacks: ``CSVLogger`` (``history_fold{k}.csv``), :class:`EpochTimer` (``epoch_times_fold{k}.csv``),
:class:`TrainingCheckpoints` (the latest and the best epoch, written whole: a killed run continues
from its last finished epoch when the same command runs again, with the best epoch it had), optional
``EarlyStopping`` and ``TensorBoard``; Ctrl-C or SIGTERM stops it between batches
(:mod:`fer_keras.training.interrupts`). On a resume the per-epoch tables lose the rows of epochs the
checkpoint does not hold, so no epoch is counted twice. The final model is saved as
``model_fold{k}.keras`` through a temporary name, so a half-written model never appears.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from fer_keras.config import ExperimentConfig, TrainingConfig
from fer_keras.errors import DivergedError
from fer_keras.atomic_write import write_file
from fer_keras.rundir import RunDir
from fer_keras.training.checkpoints import TrainingCheckpoints, keep_epochs_before
from fer_keras.training.compute import EpochTimer
from fer_keras.training.interrupts import InterruptBetweenBatches, interrupts_between_batches


#: ``training.loss`` → the Keras loss it names (labels are integer class ids).
LOSSES = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}


@keras.saving.register_keras_serializable(package="fer_keras")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with Keras' label smoothing (one-hot targets inside)."""

    def __init__(self, label_smoothing: float = 0.0, name: str = "smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        depth = keras.ops.shape(y_pred)[-1]
        targets = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), depth)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def learning_rate(training: TrainingConfig, steps_per_epoch: int | None):
    """A float, or Keras' cosine decay (with linear warmup) over ``training.epochs``."""
    if training.lr_schedule == "constant" or not steps_per_epoch:
        return training.learning_rate
    warmup = min(training.warmup_epochs, training.epochs - 1) * steps_per_epoch
    total = training.epochs * steps_per_epoch
    if warmup:
        return keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=training.learning_rate,
                                                      warmup_steps=warmup)
    return keras.optimizers.schedules.CosineDecay(training.learning_rate, total)


def make_optimizer(training: TrainingConfig, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """The optimizer the config names (``steps_per_epoch`` sizes a cosine schedule)."""
    rate = learning_rate(training, steps_per_epoch)
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=training.momentum)
    if training.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate, momentum=training.momentum)
    if training.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=rate, weight_decay=training.weight_decay, beta_1=training.beta_1)
    return keras.optimizers.Adam(learning_rate=rate, beta_1=training.beta_1)


def compile_model(model: keras.Model, config: ExperimentConfig, steps_per_epoch: int | None = None) -> keras.Model:
    """Compile with the config's optimizer and loss, accuracy as the metric."""
    training = config.training
    if training.label_smoothing:
        loss = SmoothedSparseCrossentropy(training.label_smoothing)
    else:
        loss = LOSSES[training.loss]()
    model.compile(
        optimizer=make_optimizer(training, steps_per_epoch),
        loss=loss,
        metrics=["accuracy"],
        jit_compile=config.runtime.jit_compile,
    )
    return model


def monitored(training: TrainingConfig, has_validation: bool) -> str:
    """The quantity checkpoints and early stopping watch (training accuracy when there is no val set)."""
    return training.monitor if has_validation else training.monitor.removeprefix("val_")


def fit(
    model: keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset | None,
    config: ExperimentConfig,
    run_dir: Path | RunDir,
    fold: int = 0,
    epochs: int | None = None,
    tag: str = "",
) -> pd.DataFrame:
    """Train a compiled ``model``; returns the history table and leaves the best weights loaded."""
    training = config.training
    run = RunDir.of(run_dir)
    watch = monitored(training, validation is not None)
    history_path = run.history_path(fold, tag)
    checkpoints = TrainingCheckpoints(run.backup_path(fold, tag), monitor=watch if training.checkpoint_best else None)
    finished = checkpoints.restore(model)
    if finished:
        keep_epochs_before(history_path, finished)
        keep_epochs_before(run.epoch_times_path(fold, tag), finished, first_epoch=1)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(history_path), append=bool(finished)),
        EpochTimer(run, fold, tag),
        checkpoints,  # after the tables: its commit is what a rerun resumes from
    ]
    if training.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=watch, patience=training.early_stopping_patience))
    if training.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run.tensorboard_path(fold, tag))))
    interrupt = InterruptBetweenBatches()
    with interrupts_between_batches(interrupt):
        model.fit(
            train,
            validation_data=validation,
            shuffle=False,  # tf.data already reshuffles every epoch
            epochs=epochs or training.epochs,
            initial_epoch=finished,
            callbacks=[*callbacks, interrupt],  # last: an interrupt at an epoch's end follows its checkpoint
            verbose=config.runtime.verbose,
        )
    check_finite(history_path, training)
    checkpoints.load_best(model)
    save_model(model, run.model_path(fold, tag))
    checkpoints.remove()
    return pd.read_csv(history_path)


def check_finite(history_path: Path, training: TrainingConfig) -> None:
    """Raise :class:`DivergedError` (one line) when training stopped on a NaN/inf loss."""
    history = pd.read_csv(history_path) if history_path.exists() else pd.DataFrame()
    losses = pd.to_numeric(history.get("loss", pd.Series(dtype=float)), errors="coerce")
    bad = losses.index[~np.isfinite(losses.to_numpy(float))]
    if len(bad):
        epoch = int(history["epoch"].iloc[bad[0]]) + 1 if "epoch" in history else int(bad[0]) + 1
        raise DivergedError(f"training diverged in epoch {epoch}: the loss became NaN or infinite, so there is no "
                            f"result to report; try a smaller training.learning_rate (now {training.learning_rate:g})")


def save_model(model: keras.Model, path: Path) -> None:
    """Save through a temporary file, then rename."""
    write_file(path, lambda temporary: model.save(str(temporary)))
