"""Metrics from a predictions table: accuracy, macro-F1, per-class accuracy, confusion, folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest, bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

#: Below this many test images a class's accuracy is flagged as too uncertain to quote.
FEW_IMAGES = 20


def confusion(frame: pd.DataFrame, classes: list[str], normalize: bool = False) -> pd.DataFrame:
    """Confusion matrix (rows: true class, columns: predicted), raw counts or row-normalised."""
    matrix = confusion_matrix(frame["true"], frame["predicted"], labels=classes, normalize="true" if normalize else None)
    return pd.DataFrame(np.nan_to_num(matrix), index=classes, columns=classes)


def per_class_accuracy(frame: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """Single-class accuracy (recall of each class), its support and 95% Wilson interval."""
    recall = recall_score(frame["true"], frame["predicted"], labels=classes, average=None, zero_division=0)
    support = frame["true"].value_counts().reindex(classes, fill_value=0).to_numpy()
    intervals = [accuracy_interval(round(r * n), n) for r, n in zip(recall, support)]
    return pd.DataFrame({
        "class": classes, "accuracy": recall, "support": support,
        "ci_low": [low for low, _ in intervals], "ci_high": [high for _, high in intervals],
    })


def accuracy_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson confidence interval of an accuracy of ``correct`` out of ``total`` (nan when empty)."""
    if total == 0:
        return float("nan"), float("nan")
    interval = binomtest(int(correct), int(total)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def balanced_accuracy_interval(truth, predicted, confidence: float = 0.95, resamples: int = 2000,
                               seed: int = 0) -> tuple[float, float, float]:
    """Mean per-class accuracy (balanced accuracy) and its stratified-bootstrap interval.

    Each class's correct/wrong answers are resampled within the class (``scipy.stats.bootstrap``
    with one sample per class), so every resample keeps the class counts. Returns (value, low, high).
    """
    truth, predicted = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    per_class = [(predicted[truth == name] == name).astype(float) for name in sorted(set(truth))]
    value = float(np.mean([hits.mean() for hits in per_class]))
    if any(len(hits) < 2 for hits in per_class):
        return value, float("nan"), float("nan")
    result = bootstrap(per_class, lambda *samples, axis=-1: np.mean([s.mean(axis=axis) for s in samples], axis=0),
                       confidence_level=confidence, n_resamples=resamples, method="percentile", paired=False,
                       vectorized=True, rng=np.random.default_rng(seed))
    return value, float(result.confidence_interval.low), float(result.confidence_interval.high)


def summary(frame: pd.DataFrame, classes: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class accuracy of one predictions table."""
    per_class = per_class_accuracy(frame, classes)
    low, high = accuracy_interval(int(frame["correct"].sum()), len(frame))
    return {
        "n": int(len(frame)),
        "accuracy": float(accuracy_score(frame["true"], frame["predicted"])),
        "accuracy_ci95": [low, high],
        "macro_f1": float(f1_score(frame["true"], frame["predicted"], labels=classes, average="macro", zero_division=0)),
        "per_class_accuracy": dict(zip(per_class["class"], per_class["accuracy"].astype(float))),
    }


def fold_accuracies(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of every (test set, fold) pair."""
    return (
        frame.groupby(["test_set", "fold"])["correct"].mean().rename("accuracy").reset_index()
    )


def mean_sd(values) -> dict:
    """Mean and sample standard deviation (0 for a single value)."""
    values = np.asarray(list(values), dtype=float)
    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "sd": sd, "n": int(len(values))}
