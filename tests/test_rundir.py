"""fer_keras/rundir.py: a run's file names, finding its files, whole-file writes, class order."""


def test_run_dir_names_every_file_of_a_run(tmp_path):
    from fer_keras.rundir import RunDir

    run = RunDir(tmp_path)
    names = {
        run.config_path: "config.yaml", run.status_path: "status.json", run.metrics_path: "metrics.json", run.notes_path: "notes.txt",
        run.splits_path: "splits.json", run.split_counts_path: "split_counts.csv", run.split_protocol_path: "split_protocol.json",
        run.data_counts_path: "data_counts.csv", run.excluded_path: "excluded.csv", run.baselines_path: "baselines.csv",
        run.samples_path: "samples.npz", run.all_predictions_path: "predictions.csv", run.report_markdown_path: "report.md",
        run.report_html_path: "report.html", run.learning_curves_path: "learning_curves.png",
        run.folds_boxplot_path: "folds_boxplot.png", run.emotion_analysis_path: "emotion_analysis.png",
        run.gradcam_comparison_path: "gradcam_comparison.csv", run.predictions_path(3): "predictions_fold3.csv",
        run.model_path(0): "model_fold0.keras", run.model_path(1, "_scratch"): "model_fold1_scratch.keras",
        run.tflite_path(0): "model_fold0.tflite", run.history_path(2): "history_fold2.csv",
        run.history_path(0, "_fine-tuned"): "history_fold0_fine-tuned.csv", run.backup_path(1): ".backup_fold1",
        run.confusion_matrix_path(): "confusion_matrix.csv",
        run.confusion_matrix_path("_jaffe", "png"): "confusion_matrix_jaffe.png",
        run.per_class_accuracy_path("_jaffe"): "per_class_accuracy_jaffe.csv", run.gradcam_path("jaffe"): "gradcam_jaffe.npz",
        run.gradcam_path("jaffe", "png"): "gradcam_jaffe.png", run.environment_path: "environment.json",
        run.epoch_times_path(1, "_scratch"): "epoch_times_fold1_scratch.csv",
    }
    for path, name in names.items():
        assert path == tmp_path / name
    assert run.tensorboard_path(0) == tmp_path / "tensorboard" / "fold0"
    assert run.source.path == tmp_path / "source" and run.source.model_path(0) == tmp_path / "source" / "model_fold0.keras"
    assert (RunDir.lock_name(), RunDir.lock_name(2)) == (".lock", ".lock_fold2")
    assert RunDir.of(run) is run and RunDir.of(str(tmp_path)).path == tmp_path and str(run) == str(tmp_path)


def test_run_dir_finds_the_files_a_run_left(tmp_path):
    from fer_keras.rundir import RunDir

    for name in ("predictions_fold10.csv", "predictions_fold2.csv", "predictions.csv", "history_fold0.csv",
                 "history_fold0_scratch.csv", "model_fold0.keras", "model_fold0_scratch.keras",
                 "model_fold1.keras", "other.keras", "gradcam_jaffe.npz", "epoch_times_fold0_scratch.csv"):
        (tmp_path / name).write_text("x")
    run = RunDir(tmp_path)
    assert run.finished_folds() == [2, 10]
    assert [p.name for p in run.fold_predictions()] == ["predictions_fold2.csv", "predictions_fold10.csv"]
    assert [p.name for p in run.prediction_tables()] == ["predictions.csv", "predictions_fold10.csv",
                                                         "predictions_fold2.csv"]
    assert list(run.histories()) == ["fold0", "fold0_scratch"]
    assert run.epoch_time_tables() == {"fold0_scratch": tmp_path / "epoch_times_fold0_scratch.csv"}
    assert [p.name for p in run.model_files(0)] == ["model_fold0.keras", "model_fold0_scratch.keras"]
    assert [p.name for p in run.model_files()] == ["model_fold0.keras", "model_fold0_scratch.keras",
                                                   "model_fold1.keras"]
    assert run.keras_files()[-1].name == "other.keras" and run.gradcam_maps() == [run.gradcam_path("jaffe")]
    assert run.has_progress() and not RunDir(tmp_path / "empty").has_progress()


def test_run_dir_writes_whole_files_and_leaves_no_temporary_one(tmp_path):
    import json
    import os
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import pytest

    from fer_keras.reports.notes import add_note
    from fer_keras.rundir import RunDir

    run = RunDir(tmp_path)
    run.write_text(run.notes_path, "a\n")
    run.write_csv(run.data_counts_path, pd.DataFrame({"class": ["happy"], "images": [3]}))
    run.write_json(run.metrics_path, {"accuracy": np.float32(0.5), "classes": np.array(["a", "b"])})
    run.write_file(run.samples_path, lambda temporary: np.savez_compressed(temporary, keys=np.array(["k"])))
    assert run.data_counts_path.read_text() == "class,images\nhappy,3\n"
    assert json.loads(run.metrics_path.read_text()) == {"accuracy": 0.5, "classes": ["a", "b"]}
    assert run.metrics_path.read_text() == json.dumps({"accuracy": 0.5, "classes": ["a", "b"]}, indent=2)
    assert list(np.load(run.samples_path)["keys"]) == ["k"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_counts.csv", "metrics.json", "notes.txt", "samples.npz"]

    def broken(temporary):
        temporary.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        run.write_file(run.notes_path, broken)
    assert run.notes_path.read_text() == "a\n"  # the reader never sees the half-written file
    assert not list(tmp_path.glob(".tmp_*"))
    add_note(run, "starting_model", origin="b")
    add_note(run, "starting_model", origin="b")
    assert run.notes_path.read_text() == "a\nThe starting model, as it was when this run began: b.\n"
    with pytest.raises(ValueError, match="not a file of the run"):
        run.write_text(tmp_path.parent / "elsewhere.txt", "x")
    relative = RunDir(Path(os.path.relpath(tmp_path)) / "relative")  # as ``--out run`` gives it
    relative.path.mkdir()
    relative.write_json(relative.status_path, {"state": "finished"})
    assert json.loads(relative.status_path.read_text()) == {"state": "finished"}


def test_classes_fall_back_to_predictions_table(tmp_path):
    import pandas as pd

    from fer_keras.rundir import RunDir

    pd.DataFrame(columns=["fold", "true", "prob_happiness", "prob_neutral"]).to_csv(tmp_path / "predictions.csv")
    assert RunDir(tmp_path).classes() == ["happiness", "neutral"]
    (tmp_path / "metrics.json").write_text('{"classes": ["a", "b"]}')
    assert RunDir(tmp_path).classes() == ["a", "b"]
