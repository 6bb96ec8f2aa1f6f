"""fer_keras/evaluation/metrics.py: confusion, per-class accuracy, summaries, mean ± SD."""

import pandas as pd
import pytest

from fer_keras.evaluation import metrics

CLASSES = ["anger", "fear", "happiness"]


def frame():
    true = ["anger"] * 4 + ["fear"] * 2 + ["happiness"] * 4
    pred = ["anger", "anger", "fear", "anger", "fear", "happiness", "happiness", "happiness", "happiness", "anger"]
    out = pd.DataFrame({"true": true, "predicted": pred, "fold": [0] * 5 + [1] * 5, "test_set": "toy"})
    out["correct"] = out["true"] == out["predicted"]
    return out


def test_confusion_raw_and_normalised():
    raw = metrics.confusion(frame(), CLASSES)
    assert raw.loc["anger", "anger"] == 3 and raw.loc["anger", "fear"] == 1 and raw.to_numpy().sum() == 10
    normalised = metrics.confusion(frame(), CLASSES, normalize=True)
    assert normalised.loc["anger"].tolist() == [0.75, 0.25, 0.0]
    assert normalised.sum(axis=1).tolist() == pytest.approx([1, 1, 1])


def test_summary_numbers():
    result = metrics.summary(frame(), CLASSES)
    assert result["accuracy"] == pytest.approx(0.7)
    assert result["per_class_accuracy"] == pytest.approx({"anger": 0.75, "fear": 0.5, "happiness": 0.75})
    assert 0 < result["macro_f1"] < 1


def test_fold_accuracies_and_mean_sd():
    folds = metrics.fold_accuracies(frame())
    assert folds["accuracy"].tolist() == pytest.approx([0.8, 0.6])
    spread = metrics.mean_sd(folds["accuracy"])
    assert spread["mean"] == pytest.approx(0.7) and spread["sd"] == pytest.approx(0.1414, abs=1e-4)
    assert metrics.mean_sd([0.5])["sd"] == 0.0


def test_wilson_interval_and_per_class_columns():
    low, high = metrics.accuracy_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-3) and high == pytest.approx(0.8922, abs=1e-3)
    per_class = metrics.per_class_accuracy(frame(), CLASSES)
    fear = per_class.set_index("class").loc["fear"]
    assert fear["support"] == 2 and fear["ci_low"] < 0.5 < fear["ci_high"]
    assert metrics.summary(frame(), CLASSES)["accuracy_ci95"] == pytest.approx([low, high])
