"""Real faces (../shared/datasets/CK+48): subject-independent splits hold, and models learn them.

Skipped when the folder is absent. The split checks are quick and run by default; the training
check is marked slow (``python -m pytest -m "slow and real_data"``).
"""

from __future__ import annotations

import json

import pytest

from fer_keras.config import load_config
from fer_keras.data.readers.ckplus import read_ckplus
from fer_keras.data.splits import TEST, TRAIN, kfold_split, subjects_overlap
from fer_keras.training.experiment import run_experiment

CONFIG = "ckplus48_subject_kfold.yaml"


@pytest.mark.real_data
def test_subject_independent_folds_keep_every_person_on_one_side(ckplus48_root):
    table = read_ckplus(ckplus48_root).table
    config = load_config(CONFIG, [f"data.root={ckplus48_root}"])
    folds = kfold_split(table, config.split, config.seed)
    assert len(folds) == 10
    tested = []
    for parts in folds:
        assert subjects_overlap(table, parts) == {}
        test_subjects = set(table.loc[parts == TEST, "subject"])
        assert test_subjects.isdisjoint(table.loc[parts == TRAIN, "subject"])
        tested.extend(table.index[parts == TEST])
    assert sorted(tested) == sorted(table.index)  # every image is tested exactly once
    # without subject independence the same people land on both sides (the papers' protocol)
    leaky = kfold_split(table, config.split.model_copy(update={"subject_independent": False}), config.seed)
    assert subjects_overlap(table, leaky[0])


@pytest.mark.slow
@pytest.mark.real_data
def test_two_layer_cnn_learns_real_faces_of_unseen_people(ckplus48_root, tmp_path):
    config = load_config(CONFIG, [
        f"data.root={ckplus48_root}", "split.kind=holdout", "split.test_fraction=0.2", "training.epochs=20",
        "baselines.enabled=false", "runtime.verbose=0", "report.sample_predictions=0",
    ])
    run_dir = run_experiment(config, run_dir=tmp_path / "run")
    stats = json.loads((run_dir / "metrics.json").read_text())["test_sets"]
    (result,) = stats.values()
    # six classes, the largest (surprise) is 25% of the images: 50% needs real learning
    assert result["accuracy"] > 0.5, result
