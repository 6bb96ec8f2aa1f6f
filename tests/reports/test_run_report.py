"""fer_keras/reports/run_report.py: a run directory's files → metrics.json, figures, report.md/html."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fer_keras.config import load_config
from fer_keras.errors import ReportError
from fer_keras.reports.run_report import build_report, paper_comparison, unmatched_paper_numbers

CLASSES = ["anger", "happiness", "neutral"]


def predictions(fold, correct_pattern):
    rows = []
    for i, ok in enumerate(correct_pattern):
        true = CLASSES[i % 3]
        predicted = true if ok else CLASSES[(i + 1) % 3]
        probs = {f"prob_{c}": (0.8 if c == predicted else 0.1) for c in CLASSES}
        rows.append({"fold": fold, "test_set": "toy", "key": f"f{fold}_{i}", "subject": f"s{i}",
                     "true": true, "predicted": predicted, "correct": ok, **probs})
    return pd.DataFrame(rows)


@pytest.fixture
def run_dir(tmp_path):
    config = load_config({"experiment": "toy", "report": {"paper": {"accuracy": 70.0, "accuracy_sd": 5.0,
                                                                    "per_class_accuracy": {"anger": 90}}}})
    (tmp_path / "config.yaml").write_text(config.to_yaml())
    predictions(0, [True] * 8 + [False] * 2).to_csv(tmp_path / "predictions_fold0.csv", index=False)
    predictions(1, [True] * 6 + [False] * 4).to_csv(tmp_path / "predictions_fold1.csv", index=False)
    history = pd.DataFrame({"epoch": [0, 1], "accuracy": [0.5, 0.7], "loss": [1.0, 0.6],
                            "val_accuracy": [0.4, 0.6], "val_loss": [1.1, 0.8]})
    history.to_csv(tmp_path / "history_fold0.csv", index=False)
    pd.DataFrame({"class": CLASSES + ["total"], "found": [4, 4, 3, 11], "kept": [4, 3, 3, 10]}).to_csv(
        tmp_path / "data_counts.csv", index=False)
    pd.DataFrame({"path": ["x.png"], "label": ["happiness"], "reason": ["truncated"]}).to_csv(
        tmp_path / "excluded.csv", index=False)
    np.savez(tmp_path / "samples.npz", images=np.zeros((2, 8, 8, 1), np.uint8), keys=np.array(["f0_0", "f0_1"]))
    return tmp_path


def test_metrics_agree_with_predictions(run_dir):
    build_report(run_dir)
    stats = json.loads((run_dir / "metrics.json").read_text())["test_sets"]["toy"]
    merged = pd.read_csv(run_dir / "predictions.csv")
    assert len(merged) == 20
    assert stats["accuracy"] == pytest.approx(merged["correct"].mean()) == pytest.approx(0.7)
    assert stats["fold_accuracy"] == {"0": 0.8, "1": 0.6}
    assert stats["fold_mean_sd"]["sd"] == pytest.approx(np.std([0.8, 0.6], ddof=1))
    confusion = pd.read_csv(run_dir / "confusion_matrix.csv", index_col=0)
    assert confusion.to_numpy().sum() == 20
    assert np.trace(confusion.to_numpy()) == merged["correct"].sum()
    per_class = pd.read_csv(run_dir / "per_class_accuracy.csv")
    for _, row in per_class.iterrows():
        rows = merged[merged["true"] == row["class"]]
        assert row["accuracy"] == pytest.approx(rows["correct"].mean())


def test_report_files_and_paper_column(run_dir):
    report = build_report(run_dir).read_text()
    for name in ("confusion_matrix.png", "per_class_accuracy.png", "learning_curves.png", "folds_boxplot.png",
                 "emotion_analysis.png", "report.html"):
        assert (run_dir / name).stat().st_size > 1000, name
    assert "Paper vs measured" in report
    assert "70.00 ± 5.00" in report and "70.00 ± 14.14" in report
    assert "truncated" in report
    assert "48.1–85.5" in report  # Wilson 95% interval of 14 correct out of 20
    assert "fewer than 20 test images" in report
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5


def test_paper_comparison_per_test_set():
    measured = {"A": {"fold_mean_sd": {"mean": 0.9, "sd": 0.01, "n": 10}, "per_class_accuracy": {}},
                "B": {"fold_mean_sd": {"mean": 0.4, "sd": 0.05, "n": 10}, "per_class_accuracy": {}}}
    table = paper_comparison({"accuracy": {"A": 99.0, "B": 43.0}}, measured)
    assert table["measured (%)"].tolist() == ["90.00 ± 1.00", "40.00 ± 5.00"]
    assert table["difference"].tolist() == ["-9.00", "-3.00"]


def test_paper_range_gets_a_row_and_unmatched_paper_keys_are_named():
    measured = {"kdef": {"fold_mean_sd": {"mean": 0.95, "sd": 0.01, "n": 10}, "per_class_accuracy": {}}}
    table = paper_comparison({"accuracy_range": [93.47, 98.78]}, measured)
    assert table.values.tolist() == [["accuracy on kdef", "93.47–98.78 (range)", "95.00", "inside"]]
    paper = {"accuracy": {"ckplus · fine-tuned": 68.81, "kdef": 90.0}}
    assert unmatched_paper_numbers(paper, measured) == ["ckplus · fine-tuned"]


def test_a_run_trained_from_random_weights_answers_the_papers_scratch_number(run_dir):
    paper = {"accuracy": {"toy · fine-tuned": 80.0, "toy · scratch": 60.0}}
    config = load_config({"experiment": "toy", "report": {"paper": paper}})  # e.g. --set transfer=null
    (run_dir / "config.yaml").write_text(config.to_yaml())
    report = build_report(run_dir).read_text()
    assert "| accuracy on toy · scratch | 60 | 70.00 ± 14.14 | 10 |" in " ".join(report.split())
    assert "No measured counterpart here for the paper's toy · fine-tuned " in report
    started = load_config({"experiment": "toy", "model": {"init_from": "elsewhere.keras"}, "report": {"paper": paper}})
    (run_dir / "config.yaml").write_text(started.to_yaml())
    assert "accuracy on toy · scratch" not in build_report(run_dir).read_text()


def test_empty_run_dir_is_one_line_error(tmp_path):
    with pytest.raises(ReportError, match="not a fer_keras run directory"):
        build_report(tmp_path)
    from fer_keras.config import load_config

    (tmp_path / "config.yaml").write_text(load_config("quickstart.yaml").to_yaml())  # a whole run config
    with pytest.raises(ReportError, match="no finished fold"):
        build_report(tmp_path)


def test_report_cli_rebuilds(run_dir):
    done = subprocess.run([sys.executable, "-m", "fer_keras.report", str(run_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "report.md" in done.stdout and (run_dir / "metrics.json").exists()
    missing = subprocess.run([sys.executable, "-m", "fer_keras.report", str(run_dir / "nope")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1


def test_report_says_how_many_epochs_ran_and_which_one_was_kept(run_dir):
    configured = load_config(run_dir / "config.yaml").training.epochs
    assert configured != 2
    report = build_report(run_dir).read_text()
    assert f"{configured} epochs configured, 2 run (weights kept from epoch 2, best val_accuracy)" in report
    history = pd.read_csv(run_dir / "history_fold0.csv")
    pd.concat([history] * (configured // 2 + 1)).head(configured).assign(
        val_accuracy=lambda h: [0.9 if i == 3 else 0.1 for i in range(len(h))]).to_csv(
        run_dir / "history_fold0.csv", index=False)
    assert f"{configured} epochs (weights kept from epoch 4, best val_accuracy)" in build_report(run_dir).read_text()


def test_an_empty_history_file_is_left_out_not_a_crash(run_dir):
    """A run stopped before its first epoch ended can leave a 0-byte history (CSVLogger opened it)."""
    (run_dir / "history_fold1.csv").write_text("")
    report = build_report(run_dir).read_text()
    assert "weights kept from epoch 2" in report and (run_dir / "learning_curves.png").exists()


def _split_files(run_dir, subjects):
    counts = pd.DataFrame({"fold": ["fold0"] * 3 + ["fold1"] * 3, "label": CLASSES * 2,
                           "train": [2, 2, 2] * 2, "val": [1, 1, 0] * 2, "test": [1, 0, 1] * 2})
    counts.to_csv(run_dir / "split_counts.csv", index=False)
    (run_dir / "split_protocol.json").write_text(json.dumps(
        {"kind": "official", "folds": 1, "subject_independent": False, "protocol": "split_then_augment",
         "subjects": subjects, "subjects_shared_between_parts_fold0": {}}))


def test_protocol_says_when_a_dataset_has_no_subject_ids(run_dir):
    """FER2013 has no subject ids: 35,887 images are not "35887 subjects"."""
    _split_files(run_dir, subjects=10)
    report = build_report(run_dir).read_text()
    assert "10 images without subject ids (each image counts as its own subject), not subject-independent" in report
    _split_files(run_dir, subjects=4)
    report = build_report(run_dir).read_text()
    assert "1 fold(s), 4 subjects, not subject-independent" in report and "without subject ids" not in report


def test_describe_run_names_model_epochs_and_accuracy_or_nothing(run_dir, tmp_path_factory):
    from fer_keras.reports.provenance import describe_run

    build_report(run_dir)
    (run_dir / "model_fold0.keras").write_bytes(b"")
    text = describe_run(run_dir / "model_fold0.keras")
    assert text == describe_run(run_dir)
    assert text.startswith("custom_cnn2 on synthetic, 10 epochs configured, 2 run")
    assert "2 run (weights kept from epoch 2" in text
    assert text.endswith("test accuracy toy 70.00%")
    elsewhere = tmp_path_factory.mktemp("bare")
    assert describe_run(elsewhere / "model.keras") is None
    (elsewhere / "config.yaml").write_text("not: [a fer_keras config\n")
    assert describe_run(elsewhere / "model.keras") is None


def test_compute_section_names_the_machines_and_the_epoch_times(run_dir):
    session = {"started": "2026-12-01T10:00:00", "cpu": "AMD EPYC 7B13", "cpu_cores": 2, "gpus": [],
               "python": "3.11.9", "tensorflow": "2.21.0", "keras": "3.15.0"}
    on_gpu = {**session, "cpu": "Intel Xeon", "cpu_cores": 16, "gpus": ["NVIDIA H200"]}
    (run_dir / "environment.json").write_text(json.dumps([session, session, on_gpu]))
    # epoch 2 ran twice (killed after its row, before the backup): the last time counts
    pd.DataFrame({"epoch": [2, 2], "seconds": [600.0, 4800.0], "ended": ["t1", "t2"]}).to_csv(
        run_dir / "epoch_times_fold0.csv", index=False)
    report = build_report(run_dir).read_text()
    assert "## Compute" in report
    assert ("Ran on AMD EPYC 7B13, 2 CPU cores, no GPU; TensorFlow 2.21.0, Keras 3.15.0; then on Intel Xeon, "
            "16 CPU cores, NVIDIA H200; TensorFlow 2.21.0, Keras 3.15.0 (3 sessions recorded).") in report
    assert ("Training time: 1.33 h over 1 epoch (median 4800 s per epoch; wall clock, so pauses count); recorded "
            "for 1 of the 2 epochs run (the others ran before times were recorded).") in report
    (run_dir / "environment.json").unlink()
    (run_dir / "epoch_times_fold0.csv").unlink()
    assert "## Compute" not in build_report(run_dir).read_text()


def test_a_run_finished_after_one_epoch_says_1_epoch(run_dir):
    """A partial run finished with ``--set training.epochs=1`` reads "1 epoch", not "1 epochs"."""
    config = load_config(run_dir / "config.yaml")
    one = load_config({**config.model_dump(mode="json"), "training": {**config.training.model_dump(mode="json"), "epochs": 1}})
    (run_dir / "config.yaml").write_text(one.to_yaml())
    pd.read_csv(run_dir / "history_fold0.csv").head(1).to_csv(run_dir / "history_fold0.csv", index=False)
    for extra in run_dir.glob("history_fold[1-9]*.csv"):
        extra.unlink()
    report = build_report(run_dir).read_text()
    assert "1 epoch (weights kept from epoch 1, best val_accuracy)" in report and "1 epochs" not in report
