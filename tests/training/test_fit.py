"""fer_keras/training/fit.py and runtime.py: optimizers, callbacks, resume after a kill, strategies."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import keras
import pandas as pd
import pytest
import tensorflow as tf

from fer_keras.config import RuntimeConfig, TrainingConfig, load_config
from fer_keras.training.fit import make_optimizer, monitored
from fer_keras.training.runtime import apply_precision, make_strategy

RESUMABLE = ["--config", "quickstart.yaml", "--set", "data.options.n_subjects=10", "--set", "data.options.images_per_class=3",
             "--set", "model.name=simple_cnn", "--set", "training.epochs=6", "--set", "augmentation.enabled=false",
             "--set", "report.sample_predictions=0", "--set", "runtime.verbose=0"]


def finished_epochs(history) -> int:
    """Rows CSVLogger has written so far (it creates the file, empty, before the first epoch)."""
    try:
        return len(pd.read_csv(history))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


def test_optimizers_from_config():
    sgd = make_optimizer(TrainingConfig(optimizer="sgd", learning_rate=1e-4, momentum=0.9))
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.9
    assert float(sgd.learning_rate) == pytest.approx(1e-4)
    adam = make_optimizer(TrainingConfig(learning_rate=5e-4, beta_1=0.9))
    assert isinstance(adam, keras.optimizers.Adam) and float(adam.learning_rate) == pytest.approx(5e-4)


def test_monitor_falls_back_to_training_metric_without_validation():
    assert monitored(TrainingConfig(), has_validation=True) == "val_accuracy"
    assert monitored(TrainingConfig(), has_validation=False) == "accuracy"


def test_strategies_and_precision_on_cpu():
    assert isinstance(make_strategy(RuntimeConfig(strategy="default")), tf.distribute.Strategy)
    mirrored = make_strategy(RuntimeConfig(strategy="mirrored"))
    assert isinstance(mirrored, tf.distribute.MirroredStrategy) and mirrored.num_replicas_in_sync == 1
    # no GPU here: float32, or mixed_bfloat16 on a CPU with AMX (tests/training/test_runtime.py fakes both)
    assert apply_precision(RuntimeConfig(mixed_precision="auto")) in ("float32", "mixed_bfloat16")
    assert apply_precision(RuntimeConfig(mixed_precision="on")) == "mixed_float16"
    apply_precision(RuntimeConfig(mixed_precision="off"))


def test_mirrored_strategy_trains_a_run_with_tensorboard_logs(tmp_path):
    from fer_keras.training.experiment import run_experiment

    config = load_config("quickstart.yaml", [
        "data.options.n_subjects=10", "data.options.images_per_class=1", "model.name=simple_cnn",
        "model.options.filters=[4, 8]", "training.epochs=1", "runtime.strategy=mirrored", "runtime.verbose=0",
        "report.sample_predictions=0", "training.tensorboard=true",
    ])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_experiment(config, run_dir=tmp_path / "run")
    assert not [w for w in caught if "ran out of data" in str(w.message)]  # every batch of the epoch trained
    assert len(pd.read_csv(run / "predictions.csv")) > 0
    events = list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert {path.parent.name for path in events} >= {"train"}, events


def test_killed_run_resumes_and_ends_with_all_epochs(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "fer_keras.train", *RESUMABLE, "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    history = out / "history_fold0.csv"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if finished_epochs(history) >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, "training finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = finished_epochs(history)
    assert 2 <= killed_at < 6 and not (out / "predictions_fold0.csv").exists()
    assert list(out.glob(".backup_fold0/*")), "no checkpoint left to resume from"

    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
    epochs = pd.read_csv(history)["epoch"].tolist()
    assert epochs == list(range(6)), epochs  # resumed where it stopped: no epoch repeated, none missing
    assert (out / "report.md").exists() and not (out / ".backup_fold0").exists()
    times = pd.read_csv(out / "epoch_times_fold0.csv").drop_duplicates("epoch", keep="last")
    assert times["epoch"].tolist() == list(range(1, 7)) and (times["seconds"] > 0).all()
    sessions = json.loads((out / "environment.json").read_text())
    assert len(sessions) == 2 and sessions[0]["cpu_cores"] == os.cpu_count() and sessions[0]["gpus"] == []
    assert sessions[1]["tensorflow"] == tf.__version__ and sessions[1]["keras"] == keras.__version__
    report = (out / "report.md").read_text()
    precision = sessions[0]["precision"]  # float32, or mixed_bfloat16 on a CPU with AMX
    assert precision in ("float32", "mixed_bfloat16") and sessions[1]["precision"] == precision
    assert (f"CPU cores, no GPU, {precision}; TensorFlow {tf.__version__}, Keras {keras.__version__} "
            "(2 sessions recorded).") in report
    assert "over 6 epochs (median" in report
