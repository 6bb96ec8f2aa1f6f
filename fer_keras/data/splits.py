"""Train / validation / test assignments (holdout, official, k-fold, subject-independent) and their ``splits.json``.

Every split kind returns a list of *folds*; a fold is a ``pandas.Series`` aligned with the
table whose values are ``"train"``, ``"val"`` or ``"test"``. A holdout or official split is a
list of one fold. With ``subject_independent`` every subject's images land in one part only
(scikit-learn's ``StratifiedGroupKFold`` keeps the class balance as well as it can).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from fer_keras.config import SplitConfig
from fer_keras.errors import DatasetError

TRAIN, VAL, TEST = "train", "val", "test"
PARTS = (TRAIN, VAL, TEST)


def make_folds(table: pd.DataFrame, config: SplitConfig, seed: int) -> list[pd.Series]:
    """Split ``table`` as ``config`` says; returns one Series of part names per fold."""
    if config.kind == "official":
        return [official_split(table, config, seed)]
    if config.kind == "holdout":
        return [holdout_split(table, config, seed)]
    return kfold_split(table, config, seed)


def holdout_split(table: pd.DataFrame, config: SplitConfig, seed: int) -> pd.Series:
    """One train/val/test split by fractions (stratified, optionally subject-independent)."""
    parts = pd.Series(TRAIN, index=table.index, dtype=object)
    if config.test_fraction > 0:
        test = _take_fraction(table, table.index, config.test_fraction, config, seed)
        parts[test] = TEST
    _carve_validation(table, parts, config, seed + 1)
    return parts


def official_split(table: pd.DataFrame, config: SplitConfig, seed: int) -> pd.Series:
    """The dataset's own split from its ``usage`` column (FER2013: Training/PublicTest/PrivateTest)."""
    if "usage" not in table.columns:
        raise DatasetError("split.kind 'official' needs a dataset with a usage column (e.g. fer2013); use holdout or kfold")
    usage = table["usage"].astype(str)
    unknown = sorted(set(usage) - set(PARTS))
    if unknown:
        raise DatasetError(f"usage column holds {unknown}; expected {list(PARTS)}")
    parts = usage.copy()
    if (parts == VAL).sum() == 0:
        _carve_validation(table, parts, config, seed)
    return parts


def kfold_split(table: pd.DataFrame, config: SplitConfig, seed: int) -> list[pd.Series]:
    """k folds: each fold's test part is one k-th of the data; validation is carved from the rest."""
    splitter, groups = _splitter(table, config.folds, config, seed)
    _check_enough(table, config.folds, config)
    folds = []
    for k, (_, test_positions) in enumerate(splitter.split(table.index, table["label"], groups)):
        parts = pd.Series(TRAIN, index=table.index, dtype=object)
        parts.iloc[test_positions] = TEST
        _carve_validation(table, parts, config, seed + 1 + k)
        folds.append(parts)
    return folds


def _carve_validation(table: pd.DataFrame, parts: pd.Series, config: SplitConfig, seed: int) -> None:
    """Move ``val_fraction`` of the whole table from train to val, in place."""
    if config.val_fraction <= 0:
        return
    train_index = parts.index[parts == TRAIN]
    fraction = min(config.val_fraction / max(len(train_index) / len(table), 1e-9), 0.5)
    val = _take_fraction(table, train_index, fraction, config, seed)
    parts[val] = VAL


def _take_fraction(table: pd.DataFrame, index: pd.Index, fraction: float, config: SplitConfig, seed: int) -> pd.Index:
    """About ``fraction`` of ``index`` (stratified, grouped by subject when asked)."""
    subset = table.loc[index]
    n_splits = max(2, int(round(1.0 / fraction)))
    _check_enough(subset, n_splits, config)
    splitter, groups = _splitter(subset, n_splits, config, seed)
    _, chosen = next(splitter.split(subset.index, subset["label"], groups))
    return subset.index[chosen]


def _splitter(table: pd.DataFrame, n_splits: int, config: SplitConfig, seed: int):
    """A scikit-learn splitter and its groups for this config."""
    if config.subject_independent:
        return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed), table["subject"].to_numpy()
    if config.stratify and table["label"].value_counts().min() >= n_splits:
        return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed), None
    from sklearn.model_selection import KFold

    return KFold(n_splits=n_splits, shuffle=True, random_state=seed), None


def _check_enough(table: pd.DataFrame, n_splits: int, config: SplitConfig) -> None:
    """A clear error when there are fewer samples (or subjects) than parts to make."""
    if config.subject_independent:
        subjects = table["subject"].nunique()
        if subjects < n_splits:
            raise DatasetError(
                f"subject-independent split needs at least {n_splits} subjects, found {subjects}; "
                "lower split.folds / the fractions or set split.subject_independent: false"
            )
    elif len(table) < n_splits:
        raise DatasetError(f"split needs at least {n_splits} images, found {len(table)}")


def subjects_overlap(table: pd.DataFrame, parts: pd.Series) -> dict[str, list[str]]:
    """Subjects that appear in more than one part (empty when the split is subject-independent)."""
    seen = table.groupby(parts.values)["subject"].apply(set).to_dict()
    overlap = {}
    names = [p for p in PARTS if p in seen]
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = sorted(seen[first] & seen[second])
            if shared:
                overlap[f"{first}/{second}"] = shared
    return overlap


def part_counts(table: pd.DataFrame, parts: pd.Series) -> pd.DataFrame:
    """Images per class (rows) and part (columns)."""
    counts = pd.crosstab(table["label"], parts.rename("part"))
    return counts.reindex(columns=[p for p in PARTS if p in counts.columns], fill_value=0)


def save_folds(folds: list[pd.Series], table: pd.DataFrame, path: Path) -> None:
    """Write ``splits.json``: for each fold, the sample keys of each part."""
    keys = sample_keys(table)
    payload = [{part: keys[(fold == part).to_numpy()].tolist() for part in PARTS} for fold in folds]
    path.write_text(json.dumps(payload))


def load_folds(table: pd.DataFrame, path: Path) -> list[pd.Series]:
    """Read ``splits.json`` back into folds aligned with ``table``."""
    keys = pd.Index(sample_keys(table))
    folds = []
    for fold in json.loads(path.read_text()):
        parts = pd.Series(None, index=table.index, dtype=object)
        for part, members in fold.items():
            parts.iloc[keys.get_indexer(members)] = part
        folds.append(parts)
    return folds


def sample_keys(table: pd.DataFrame) -> np.ndarray:
    """A stable key per sample: its path, or ``<dataset>:<row>`` for in-memory images."""
    paths = table["path"] if "path" in table.columns else pd.Series(None, index=table.index, dtype=object)
    if paths.notna().all():
        return paths.astype(str).to_numpy()
    return np.array([str(p) if pd.notna(p) else f"{d}:{i}" for p, d, i in zip(paths, table["dataset"], range(len(table)))])
