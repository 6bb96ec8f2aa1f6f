"""Experiment modes: cross-dataset tests, source → target transfer, ensembles of finished runs."""

import json

import numpy as np
import pandas as pd
import pytest

from fer_keras.config import load_config
from fer_keras.data.readers.synthetic import make_synthetic_faces, write_class_folders
from fer_keras.evaluation.predictions import with_name_fields
from fer_keras.reports.names import display_names
from fer_keras.errors import EnsembleError
from fer_keras.training.experiment import run_experiment

TINY = {
    "seed": 3,
    "data": {"dataset": "synthetic", "options": {"n_subjects": 8, "images_per_class": 1, "image_size": 48},
             "image_size": [48, 48]},
    "split": {"kind": "holdout", "test_fraction": 0.25, "val_fraction": 0.0},
    "model": {"name": "simple_cnn", "options": {"filters": [4, 8], "dense_units": 8}},
    "training": {"epochs": 1, "batch_size": 16},
    "report": {"sample_predictions": 0},
    "runtime": {"verbose": 0},
}


def config(**changes):
    raw = json.loads(json.dumps(TINY))
    for key, value in changes.items():
        raw[key] = value
    return load_config(raw)


def test_cross_dataset_tests_on_shared_classes_only(tmp_path):
    other = make_synthetic_faces(n_subjects=2, images_per_class=1, image_size=64, seed=9,
                                 classes=["anger", "happiness", "sadness", "neutral"])
    write_class_folders(other, tmp_path / "other")
    run = run_experiment(config(experiment="cross", data={**TINY["data"], "classes": "6"},
                                test_datasets=[{"dataset": "folder", "root": str(tmp_path / "other"), "name": "other"}]),
                         run_dir=tmp_path / "run")
    predictions = pd.read_csv(run / "predictions.csv")
    crossed = predictions[predictions["test_set"] == "other"]
    assert len(crossed) == 6  # neutral is not one of the model's 6 classes
    assert set(crossed["true"]) == {"anger", "happiness", "sadness"}
    assert [c for c in predictions.columns if c.startswith("prob_")] == [
        f"prob_{c}" for c in ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]]
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test_sets"]) == {"synthetic", "other"}
    assert (run / "confusion_matrix_other.png").exists()


def test_extra_training_sets_train_and_never_test(tmp_path, monkeypatch):
    from fer_keras.data import fold_data

    other = make_synthetic_faces(n_subjects=2, images_per_class=1, image_size=64, seed=9,
                                 classes=["anger", "happiness", "sadness", "neutral"])
    write_class_folders(other, tmp_path / "other")
    sizes = []
    real = fold_data.make_dataset

    def recording(images, labels, batch, indices=None, **kwargs):
        sizes.append((len(images), None if indices is None else len(indices)))
        return real(images, labels, batch, indices=indices, **kwargs)

    monkeypatch.setattr(fold_data, "make_dataset", recording)
    plain = run_experiment(config(experiment="plain", data={**TINY["data"], "classes": "6"}), run_dir=tmp_path / "plain")
    plain_images, plain_train = sizes[0]  # the training dataset is made first
    sizes.clear()
    extra = {"dataset": "folder", "root": str(tmp_path / "other"), "name": "other", "repeat": 2}
    left_out = {"dataset": "folder", "root": str(tmp_path / "absent"), "repeat": 0}  # never read
    run = run_experiment(config(experiment="extra", data={**TINY["data"], "classes": "6"},
                                train_extra=[extra, left_out]),
                         run_dir=tmp_path / "run")
    images, train = sizes[0]
    assert images == plain_images + 2 * 6 and train == plain_train + 2 * 6  # 6 shared-class images, twice
    predictions, before = pd.read_csv(run / "predictions.csv"), pd.read_csv(plain / "predictions.csv")
    assert set(predictions["test_set"]) == {"synthetic"} and predictions["key"].tolist() == before["key"].tolist()
    counts = pd.read_csv(run / "train_extra_counts.csv")
    assert counts.set_index("class")["train_samples"].to_dict() == {"anger": 4, "happiness": 4, "sadness": 4}
    assert "Extra training sets" in (run / "report.md").read_text()
    assert pd.read_csv(run / "split_counts.csv").equals(pd.read_csv(plain / "split_counts.csv"))


def test_transfer_fine_tunes_source_and_trains_scratch_twin(tmp_path):
    run = run_experiment(config(
        experiment="transfer", report={"sample_predictions": 3},  # samples appear under two test sets
        data={**TINY["data"], "classes": ["anger", "happiness", "surprise"]},
        transfer={"source": {**TINY["data"], "options": {**TINY["data"]["options"], "seed": 5}},
                  "source_split": {"kind": "holdout", "test_fraction": 0.25, "val_fraction": 0.0}},
    ), run_dir=tmp_path / "run")
    assert (run / "source" / "report.md").exists() and (run / "source" / "model_fold0.keras").exists()
    predictions = pd.read_csv(run / "predictions.csv")
    assert set(display_names(predictions)) == {"synthetic · fine-tuned", "synthetic · scratch"}
    assert (run / "model_fold0_fine-tuned.keras").exists() and (run / "model_fold0_scratch.keras").exists()
    notes = (run / "notes.txt").read_text()
    assert "head was rebuilt for 3 classes" in notes
    assert "head was rebuilt" in (run / "report.md").read_text()
    source_accuracy = json.loads((run / "source" / "metrics.json").read_text())["test_sets"]["synthetic"]["accuracy"]
    assert ("The starting model, as it was when this run began: simple_cnn on synthetic, 1 epoch; "
            f"test accuracy synthetic {100 * source_accuracy:.2f}%.") in notes
    assert (run / "emotion_analysis.png").exists()


def test_ensemble_averages_member_probabilities(tmp_path):
    first = run_experiment(config(experiment="m1"), run_dir=tmp_path / "m1")
    second = run_experiment(config(experiment="m2", model={"name": "simple_cnn", "options": {"filters": [6, 6]}}),
                            run_dir=tmp_path / "m2")
    run = run_experiment(config(experiment="ens", ensemble={"members": [str(first), str(second)]}),
                         run_dir=tmp_path / "ens")
    predictions = pd.read_csv(run / "predictions.csv").set_index("key")
    names = display_names(predictions)
    ensemble = predictions[names == "ensemble · synthetic"]
    a = predictions[names == "m1 · synthetic"].loc[ensemble.index]
    b = predictions[names == "m2 · synthetic"].loc[ensemble.index]
    columns = [c for c in predictions.columns if c.startswith("prob_")]
    assert len(ensemble) == 14
    np.testing.assert_allclose(ensemble[columns], (a[columns].to_numpy() + b[columns].to_numpy()) / 2)
    assert set(json.loads((run / "metrics.json").read_text())["test_sets"]) == {
        "ensemble · synthetic", "m1 · synthetic", "m2 · synthetic"}
    first_accuracy = json.loads((first / "metrics.json").read_text())["test_sets"]["synthetic"]["accuracy"]
    assert (f"Member {first}: simple_cnn on synthetic, 1 epoch; test accuracy synthetic "
            f"{100 * first_accuracy:.2f}%.") in (run / "notes.txt").read_text().splitlines()
    report = (run / "report.md").read_text()
    assert "Ensemble of 2 finished runs: their class probabilities averaged sample by sample, 7 classes" in report
    assert "Model `" not in report  # the config's unused model settings are not presented as the ensemble's


def test_ensemble_needs_finished_members(tmp_path):
    with pytest.raises(EnsembleError, match="no predictions.csv"):
        run_experiment(config(ensemble={"members": [str(tmp_path), str(tmp_path)]}), run_dir=tmp_path / "e")


def _member_rows(keys):
    """A member's predictions table over the sample ``keys`` (two classes)."""
    return with_name_fields(pd.DataFrame({
        "fold": 0, "test_set": "fer2013", "key": keys, "subject": keys, "true": "anger", "predicted": "anger",
        "correct": True, "prob_anger": 0.6, "prob_happiness": 0.4}))


def test_ensemble_refuses_members_scored_on_different_samples():
    from fer_keras.training.ensemble import combine

    same = combine([("m1", _member_rows(["a", "b", "c"])), ("m2", _member_rows(["c", "b", "a"]))])
    assert len(same[same["model"] == "ensemble"]) == 3
    with pytest.raises(EnsembleError, match=r"m2 was scored on 2 samples, m1 on 3 \(2 in common\)"):
        combine([("m1", _member_rows(["a", "b", "c"])), ("m2", _member_rows(["a", "b"]))])


def test_augment_then_split_puts_copies_of_one_photo_on_both_sides(tmp_path):
    run = run_experiment(config(
        experiment="leaky",
        augmentation={"enabled": True, "rotation": 10, "balance": "total", "balance_target": 140},
        split={"kind": "holdout", "test_fraction": 0.1, "val_fraction": 0.0, "protocol": "augment_then_split"},
    ), run_dir=tmp_path / "run")
    splits = json.loads((run / "splits.json").read_text())[0]
    assert len(splits["train"]) + len(splits["test"]) == 140
    originals = lambda keys: {k.split("#")[0] for k in keys}  # noqa: E731
    assert originals(splits["train"]) & originals(splits["test"])
    assert "leaky" in (run / "report.md").read_text()
    assert len(pd.read_csv(run / "predictions.csv")) == 14


def test_gradcam_maps_and_comparisons_in_report(tmp_path):
    other = make_synthetic_faces(n_subjects=2, images_per_class=1, image_size=48, seed=9)
    write_class_folders(other, tmp_path / "other")
    gradcam = {"enabled": True, "max_images": 20, "face_mask": True}
    run = run_experiment(config(
        experiment="cam", report={"sample_predictions": 0, "gradcam": gradcam},
        test_datasets=[{"dataset": "folder", "root": str(tmp_path / "other"), "name": "other"}],
    ), run_dir=tmp_path / "run")
    assert (run / "gradcam_synthetic.png").exists() and (run / "gradcam_other.png").exists()
    table = pd.read_csv(run / "gradcam_comparison.csv")
    assert set(table["comparison"]) == {"same model, two datasets", "map vs face region"}
    assert table[["mean DICE", "mean IoU"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table["mean IoU"] <= table["mean DICE"] + 1e-9).all()  # IoU never exceeds DICE
    second = run_experiment(config(
        experiment="cam2", report={"sample_predictions": 0, "gradcam": {**gradcam, "compare_runs": [str(run)]}},
    ), run_dir=tmp_path / "run2")
    table = pd.read_csv(second / "gradcam_comparison.csv")
    assert "two models, one dataset" in set(table["comparison"])
    assert "Grad-CAM" in (second / "report.md").read_text()


def test_finetune_own_folder_from_a_saved_quickstart_model(tmp_path):
    start = run_experiment(config(experiment="start"), run_dir=tmp_path / "start")
    mine = make_synthetic_faces(n_subjects=6, images_per_class=1, image_size=64, seed=4,
                                classes=["happiness", "sadness", "neutral"])
    write_class_folders(mine, tmp_path / "my_faces")
    (tmp_path / "my_faces" / "happiness").rename(tmp_path / "my_faces" / "joy")
    own = load_config("finetune_own_folder.yaml", [
        f"data.root={tmp_path / 'my_faces'}", f"model.init_from={start}", "data.face_crop.enabled=false",
        "data.options.label_map={joy: delight}", "training.epochs=1", "runtime.verbose=0",
        "split.val_fraction=0", "split.test_fraction=0.34", "model.init_fine_tune=head",
    ])
    run = run_experiment(own, run_dir=tmp_path / "own")
    predictions = pd.read_csv(run / "predictions.csv")
    assert [c for c in predictions.columns if c.startswith("prob_")] == ["prob_sadness", "prob_neutral", "prob_delight"]
    report = (run / "report.md").read_text()
    assert "head was rebuilt for 3 classes" in report and "fewer than 20 test images" in report
    assert "The starting model, as it was when this run began: simple_cnn on synthetic, 1 epoch" in report
    import keras

    tuned = keras.models.load_model(run / "model_fold0.keras")
    assert [layer.name for layer in tuned.layers if layer.trainable_weights] == ["predictions"]


def test_baselines_run_on_the_same_folds(tmp_path):
    run = run_experiment(config(experiment="base", split={"kind": "kfold", "folds": 2, "val_fraction": 0.0},
                                baselines={"enabled": True, "combos": [["hog", "svm"], ["pixels", "knn"]]}),
                         run_dir=tmp_path / "run")
    predictions = pd.read_csv(run / "predictions.csv")
    names = display_names(predictions)
    cnn = predictions[names == "synthetic"]
    for name in ("synthetic · svm+hog", "synthetic · knn+pixels"):
        rows = predictions[names == name]
        assert sorted(rows["key"]) == sorted(cnn["key"]) and set(rows["fold"]) == {0, 1}
    summary = pd.read_csv(run / "baselines.csv")
    assert set(summary["classifier"]) == {"svm", "knn"} and (summary["folds"] == 2).all()
    assert "Classical baselines" in (run / "report.md").read_text()
