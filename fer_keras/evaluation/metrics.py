"""Metrics from a predictions table: accuracy, macro-F1, per-class accuracy, confusion, folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score


def confusion(frame: pd.DataFrame, classes: list[str], normalize: bool = False) -> pd.DataFrame:
    """Confusion matrix (rows: true class, columns: predicted), raw counts or row-normalised."""
    matrix = confusion_matrix(frame["true"], frame["predicted"], labels=classes, normalize="true" if normalize else None)
    return pd.DataFrame(np.nan_to_num(matrix), index=classes, columns=classes)


def per_class_accuracy(frame: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """Single-class accuracy (recall of each class) with its support."""
    recall = recall_score(frame["true"], frame["predicted"], labels=classes, average=None, zero_division=0)
    support = frame["true"].value_counts().reindex(classes, fill_value=0)
    return pd.DataFrame({"class": classes, "accuracy": recall, "support": support.to_numpy()})


def summary(frame: pd.DataFrame, classes: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class accuracy of one predictions table."""
    per_class = per_class_accuracy(frame, classes)
    return {
        "n": int(len(frame)),
        "accuracy": float(accuracy_score(frame["true"], frame["predicted"])),
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
