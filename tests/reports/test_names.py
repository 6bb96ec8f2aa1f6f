"""fer_keras/reports/names.py: display names composed from a predictions row's name fields, old tables included."""

import json

import numpy as np
import pandas as pd
import pytest

from fer_keras.config import load_config
from fer_keras.evaluation.predictions import NAME_FIELDS, with_name_fields
from fer_keras.reports.names import display_name, display_names, displayed
from fer_keras.reports.run_report import build_report
from fer_keras.errors import EnsembleError
from fer_keras.training.ensemble import combine, member_predictions

CLASSES = ["anger", "happiness", "sadness"]


@pytest.mark.parametrize("fields, name", [
    ({"test_set": "jaffe"}, "jaffe"),
    ({"test_set": "jaffe", "variant": "fine-tuned"}, "jaffe · fine-tuned"),
    ({"test_set": "kdef (val)", "method": "svm+hog"}, "kdef (val) · svm+hog"),
    ({"test_set": "fer2013", "model": "ensemble"}, "ensemble · fer2013"),
    ({"test_set": "jaffe", "variant": "scratch", "model": "m1"}, "m1 · jaffe · scratch"),
])
def test_display_name(fields, name):
    assert display_name(**fields) == name


def rows(fold: int, n: int = 6, **fields) -> pd.DataFrame:
    """A predictions table of ``n`` rows, every third wrong."""
    true = [CLASSES[i % 3] for i in range(n)]
    predicted = [CLASSES[(i + (i % 3 == 2)) % 3] for i in range(n)]
    frame = pd.DataFrame({"fold": fold, **fields, "key": [f"k{i}" for i in range(n)], "subject": "s",
                          "true": true, "predicted": predicted})
    frame["correct"] = frame["true"] == frame["predicted"]
    for i, c in enumerate(CLASSES):
        frame[f"prob_{c}"] = [0.8 if p == c else 0.1 for p in predicted]
    return frame


def test_tables_without_name_fields_read_them_as_empty(tmp_path):
    rows(0, test_set="ckplus · fine-tuned").to_csv(tmp_path / "old.csv", index=False)
    old = pd.read_csv(tmp_path / "old.csv")
    completed = with_name_fields(old)
    assert completed.columns[1:5].tolist() == list(NAME_FIELDS)
    assert (completed[["variant", "method", "model"]] == "").all().all()
    assert set(completed["test_set"]) == {"ckplus · fine-tuned"}  # never split
    assert set(display_names(old)) == {"ckplus · fine-tuned"}
    new = rows(0, test_set="ckplus", variant="fine-tuned", method="", model="")
    new.to_csv(tmp_path / "new.csv", index=False)
    pd.testing.assert_frame_equal(displayed(pd.read_csv(tmp_path / "new.csv")), old)


def test_report_of_old_and_new_tables_shows_the_same_rows(tmp_path):
    config = load_config("ckplus_model2_transfer.yaml")
    for kind in ("old", "new"):
        run = tmp_path / kind
        run.mkdir()
        (run / "config.yaml").write_text(config.to_yaml())
        for fold in (0, 1):
            frame = pd.concat([rows(fold, test_set="ckplus", variant="fine-tuned"),
                               rows(fold, 9, test_set="ckplus", variant="scratch")], ignore_index=True)
            if kind == "old":
                frame = displayed(frame)
            frame.to_csv(run / f"predictions_fold{fold}.csv", index=False)
        build_report(run)
    old, new = (json.loads((tmp_path / k / "metrics.json").read_text())["test_sets"] for k in ("old", "new"))
    assert list(old) == list(new) == ["ckplus · fine-tuned", "ckplus · scratch"]
    assert new["ckplus · scratch"]["test_set"] == "ckplus" and new["ckplus · scratch"]["variant"] == "scratch"
    assert old["ckplus · scratch"]["test_set"] == "ckplus · scratch" and old["ckplus · scratch"]["variant"] == ""
    report = (tmp_path / "new" / "report.md").read_text()
    assert report == (tmp_path / "old" / "report.md").read_text()
    assert "accuracy on ckplus · fine-tuned" in report  # the config's paper key, as users write it
    assert (tmp_path / "new" / "confusion_matrix_ckplus___scratch.csv").exists()


def test_ensemble_names_its_rows_by_model_and_reads_members_written_before_name_fields(tmp_path):
    for name, frame in (("m1", rows(0, test_set="synthetic")),
                        ("m2", rows(0, test_set="synthetic", variant="", method="", model=""))):
        (tmp_path / name).mkdir()
        frame.to_csv(tmp_path / name / "predictions.csv", index=False)
    combined = combine([member_predictions(tmp_path / "m1"), member_predictions(tmp_path / "m2")])
    assert combined.columns[:6].tolist() == ["fold", *NAME_FIELDS, "key"]
    assert display_names(combined).unique().tolist() == ["ensemble · synthetic", "m1 · synthetic", "m2 · synthetic"]
    assert set(combined["test_set"]) == {"synthetic"}
    np.testing.assert_allclose(combined.loc[combined["model"] == "ensemble", "prob_anger"],
                               rows(0, test_set="x")["prob_anger"])
    (tmp_path / "ens").mkdir()
    combined.to_csv(tmp_path / "ens" / "predictions.csv", index=False)
    with pytest.raises(EnsembleError, match="itself an ensemble run"):
        member_predictions(tmp_path / "ens")
