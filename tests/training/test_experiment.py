"""fer_keras/training/experiment.py and the train CLI: a config becomes a trained, reported run."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from fer_keras.config import load_config
from fer_keras.training.experiment import run_experiment

TINY = ["data.options.n_subjects=10", "data.options.images_per_class=1", "training.batch_size=16",
        "report.sample_predictions=3"]


def train_cli(*args):
    return subprocess.run([sys.executable, "-m", "fer_keras.train", *args], capture_output=True, text=True)


def test_quickstart_cli_runs_end_to_end(tmp_path):
    out = tmp_path / "run"
    overrides = [item for pair in zip(["--set"] * 8, TINY + ["training.epochs=1"]) for item in pair]
    done = train_cli("--config", "quickstart.yaml", *overrides, "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"report: {out / 'report.md'}" in done.stdout
    for name in ("config.yaml", "splits.json", "history_fold0.csv", "model_fold0.keras", "predictions.csv",
                 "metrics.json", "confusion_matrix.png", "per_class_accuracy.csv", "per_class_accuracy.png",
                 "learning_curves.png", "emotion_analysis.png", "report.md", "report.html", "data_counts.csv"):
        assert (out / name).exists(), name
    predictions = pd.read_csv(out / "predictions.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    (stats,) = metrics["test_sets"].values()
    assert stats["n"] == len(predictions) == 14  # 2 of 10 subjects x 7 classes held out for test
    assert stats["accuracy"] == pytest.approx(predictions["correct"].mean())
    assert len(pd.read_csv(out / "history_fold0.csv")) == 1
    assert not list(out.glob(".tmp_*")) and not list(out.glob(".backup_*"))


def test_seeds_run_one_folder_each_then_a_summary_and_resume_keeps_finished_seeds(tmp_path):
    out = tmp_path / "seeds"
    overrides = [item for pair in zip(["--set"] * 6, TINY[:3] + ["training.epochs=1", "report.sample_predictions=0",
                                                                    "model.name=simple_cnn"]) for item in pair]
    command = ["--config", "quickstart.yaml", *overrides, "--seeds", "3", "7", "--out", str(out)]
    done = train_cli(*command)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"summary: {out / 'seeds_summary.md'}" in done.stdout
    assert [load_config(out / f"seed{n}" / "config.yaml").seed for n in (3, 7)] == [3, 7]
    accuracies = [json.loads((out / f"seed{n}" / "metrics.json").read_text())["test_sets"] for n in (3, 7)]
    summary = pd.read_csv(out / "seeds_summary.csv")
    assert summary["seeds"].tolist() == ["3, 7"]
    per_seed = [f"{100 * next(iter(a.values()))['accuracy']:.2f}" for a in accuracies]
    assert summary["accuracy per seed (%)"].tolist() == [", ".join(per_seed)]
    model = out / "seed3" / "model_fold0.keras"
    before = model.stat().st_mtime_ns
    (out / "seed7" / "predictions_fold0.csv").unlink()  # as if seed 7 had stopped before its fold finished
    again = train_cli(*command)
    assert again.returncode == 0, again.stderr[-2000:]
    assert model.stat().st_mtime_ns == before and (out / "seed7" / "predictions_fold0.csv").exists()


def test_cli_config_errors_are_one_line(tmp_path):
    done = train_cli("--config", "quickstart.yaml", "--set", "training.epoch=1")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: config error: unknown key 'training.epoch'")
    assert done.stderr.strip().count("\n") == 0
    missing = train_cli("--config", "nope.yaml")
    assert missing.returncode == 2 and "packaged configs" in missing.stderr


def test_learns_synthetic_faces_well_above_chance(tmp_path):
    config = load_config("quickstart.yaml", [
        "data.options.n_subjects=60", "data.options.images_per_class=3",
        "model.name=simple_cnn", "runtime.verbose=0", "report.sample_predictions=0", "training.epochs=16",
    ])
    run_dir = run_experiment(config, run_dir=tmp_path / "run")
    stats = json.loads((run_dir / "metrics.json").read_text())["test_sets"]["synthetic"]
    assert stats["accuracy"] > 0.6, stats  # chance is 1/7; 0.92 measured on 2 cores


def test_no_dataset_face_is_kept_in_the_run_when_sample_faces_is_off(tmp_path):
    """samples.npz kept 8 raw faces even with report.sample_faces: false (the bundled FER2013 recipe)."""
    out = tmp_path / "run"
    overrides = [item for pair in zip(["--set"] * 7, TINY + ["training.epochs=1", "report.sample_faces=false",
                                                            "model.name=simple_cnn"]) for item in pair]
    done = train_cli("--config", "quickstart.yaml", *overrides, "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "report.md").exists() and not (out / "samples.npz").exists()


def test_the_run_records_the_detector_auto_chose(tmp_path, monkeypatch):
    """auto is chosen when the run starts and config.yaml names the choice (here: no cascade, so mtcnn)."""
    import cv2
    import yaml

    from fer_keras.training.experiment import with_detectors_chosen

    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)
    monkeypatch.setattr(cv2.data, "haarcascades", "", raising=False)
    config = load_config("jaffe_model2_transfer.yaml", ["data.face_crop.enabled=true"])
    assert config.data.face_crop.detector == "auto"
    chosen = with_detectors_chosen(config)
    assert chosen.data.face_crop.detector == chosen.transfer.source.face_crop.detector == "mtcnn"
    assert config.data.face_crop.detector == "auto"  # the caller's config is left as it was
    assert yaml.safe_load(chosen.to_yaml())["data"]["face_crop"]["detector"] == "mtcnn"
