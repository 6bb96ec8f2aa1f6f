"""Extra training sets (``train_extra``): their samples join the train part of every fold.

The main dataset is split as usual (its ``splits.json`` names only its own samples, so a run
resumes the same way); each extra set, decoded like the main data and restricted to the
classes both share, is appended afterwards and marked train in every fold, ``repeat`` times.
Validation and test stay the main dataset's alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_keras.data.load import LoadedData
from fer_keras.data.splits import TRAIN
from fer_keras.errors import DatasetError


def with_extra_training(
    loaded: LoadedData, folds: list[pd.Series], extras: list[tuple[str, LoadedData, int]]
) -> tuple[LoadedData, list[pd.Series]]:
    """``loaded`` with every extra set's samples appended (each ``repeat`` times) and ``folds`` with
    those samples in the train part; the main samples keep their rows (and keys).

    ``extras`` holds (name, data decoded on ``loaded``'s classes, repeat).
    """
    if not extras:
        return loaded, folds
    if loaded.image_index is not None:
        raise DatasetError("extra training sets cannot join augmented copies (augment_then_split)")
    tables, labels, images, excluded = [loaded.table], [loaded.label_ids], [loaded.images], [loaded.excluded]
    for name, data, repeat in extras:
        if data.classes != loaded.classes:
            raise DatasetError(f"{name} was decoded on classes {data.classes}, not the model's {loaded.classes}")
        if data.input_shape != loaded.input_shape:
            raise DatasetError(f"{name} images are {data.input_shape}, the model takes {loaded.input_shape}")
        rows = np.tile(np.arange(len(data.table)), repeat)
        tables.append(data.table.iloc[rows])
        labels.append(data.label_ids[rows])
        images.append(data.images[rows])
        excluded.append(data.excluded.assign(dataset=name))
    table = pd.concat(tables, ignore_index=True)
    added = len(table) - len(loaded.table)
    joined = LoadedData(
        table, loaded.classes, np.concatenate(labels), np.concatenate(images),
        pd.concat(excluded, ignore_index=True), loaded.counts,
    )
    extended = [pd.concat([parts.reset_index(drop=True), pd.Series([TRAIN] * added, dtype=object)], ignore_index=True)
                for parts in folds]
    return joined, extended


def extra_training_counts(extras: list[tuple[str, LoadedData, int]]) -> pd.DataFrame:
    """Per extra set and class: images read, images used, and how often each enters the train part."""
    rows = []
    for name, data, repeat in extras:
        for k, label in enumerate(data.classes):
            used = int((data.label_ids == k).sum())
            if used:
                rows.append({"dataset": name, "class": label, "images": used, "repeat": repeat,
                             "train_samples": used * repeat})
    return pd.DataFrame(rows, columns=["dataset", "class", "images", "repeat", "train_samples"])

