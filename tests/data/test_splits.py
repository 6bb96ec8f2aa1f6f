"""fer_keras/data/splits.py: holdout, official, k-fold, subject independence, save/load."""

import numpy as np
import pandas as pd
import pytest

from fer_keras.config import SplitConfig
from fer_keras.errors import DatasetError
from fer_keras.data.splits import load_folds, make_folds, part_counts, save_folds, subjects_overlap


def table(subjects=20, per_subject_per_class=3, classes=("anger", "fear", "happiness")):
    rows = [
        {"path": f"s{s}_{c}_{i}.png", "label": c, "subject": f"s{s}", "dataset": "toy"}
        for s in range(subjects) for c in classes for i in range(per_subject_per_class)
    ]
    return pd.DataFrame(rows)


def test_holdout_fractions_and_stratification():
    data = table()
    (parts,) = make_folds(data, SplitConfig(test_fraction=0.2, val_fraction=0.1), seed=0)
    counts = parts.value_counts()
    assert counts["test"] == pytest.approx(0.2 * len(data), abs=3)
    assert counts["val"] == pytest.approx(0.1 * len(data), abs=4)
    per_class = part_counts(data, parts)
    assert per_class["test"].max() - per_class["test"].min() <= 1


def test_holdout_subject_independent_has_no_shared_subjects():
    data = table()
    (parts,) = make_folds(data, SplitConfig(subject_independent=True), seed=1)
    assert subjects_overlap(data, parts) == {}
    assert set(parts) == {"train", "val", "test"}


def test_plain_holdout_does_share_subjects():
    data = table()
    (parts,) = make_folds(data, SplitConfig(), seed=1)
    assert subjects_overlap(data, parts)


def test_kfold_tests_every_sample_once():
    data = table()
    folds = make_folds(data, SplitConfig(kind="kfold", folds=5, val_fraction=0.1), seed=0)
    assert len(folds) == 5
    tested = np.sum([(f == "test").to_numpy() for f in folds], axis=0)
    assert (tested == 1).all()


def test_subject_kfold_keeps_subjects_whole():
    data = table()
    folds = make_folds(data, SplitConfig(kind="kfold", folds=4, subject_independent=True), seed=0)
    for fold in folds:
        assert subjects_overlap(data, fold) == {}


def test_official_uses_usage_column_and_carves_val():
    data = table().assign(usage=lambda t: np.where(np.arange(len(t)) % 5 == 0, "test", "train"))
    (parts,) = make_folds(data, SplitConfig(kind="official", val_fraction=0.1), seed=0)
    assert (parts[data["usage"] == "test"] == "test").all()
    assert (parts == "val").sum() > 0


def test_official_without_usage_is_clear():
    with pytest.raises(DatasetError, match="usage column"):
        make_folds(table(), SplitConfig(kind="official"), seed=0)


def test_too_few_subjects_is_clear():
    with pytest.raises(DatasetError, match="at least 10 subjects"):
        make_folds(table(subjects=4), SplitConfig(kind="kfold", folds=10, subject_independent=True), seed=0)


def test_seeded_and_round_trips_through_json(tmp_path):
    data = table()
    config = SplitConfig(kind="kfold", folds=3)
    first, again = make_folds(data, config, seed=7), make_folds(data, config, seed=7)
    assert all((a == b).all() for a, b in zip(first, again))
    save_folds(first, data, tmp_path / "splits.json")
    loaded = load_folds(data, tmp_path / "splits.json")
    assert all((a == b).all() for a, b in zip(first, loaded))
