"""The data a run trains on, prepared from its config: the main set, other sets, each fold's datasets.

:func:`load_run_data` reads the main dataset; :func:`load_like_training` decodes another set (a
cross-dataset test, an extra training set) as the model's input; :func:`augmented_copies` makes the
augment-then-split protocol's copies; :func:`fold_datasets` turns one fold's parts into batched
training and validation datasets (balancing, augmentation, batch size, the fold's seed) and names the
samples that evaluate it; :func:`sample_indices` picks the report's example faces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import DataConfig, ExperimentConfig
from fer_keras.data.load import LoadedData, load_data
from fer_keras.data.pipeline import make_dataset
from fer_keras.data.splits import TEST, TRAIN, VAL
from fer_keras.errors import UserError


@dataclass
class FoldData:
    """One fold, ready to fit and evaluate."""

    train: object                     # tf.data.Dataset of (images, labels) batches
    validation: object | None         # the same, or None when the fold has no validation part
    eval_indices: np.ndarray          # samples the fold is scored on: its test part, else its validation part
    eval_name: str                    # the name its predictions carry
    augmenter: Callable | None        # the training augmenter

    @property
    def steps_per_epoch(self) -> int:
        return int(self.train.cardinality())

    def eval_augmenter(self, data: LoadedData) -> Callable | None:
        """What evaluating ``data`` applies: the augmenter to augmented copies, nothing otherwise."""
        return self.augmenter if data.image_index is not None else None


def cache_dir(config: ExperimentConfig) -> Path:
    """Where face detections are remembered (``runtime.out_dir/.cache``)."""
    return Path(config.runtime.out_dir) / ".cache"


def load_run_data(config: ExperimentConfig) -> LoadedData:
    """The main dataset (``data``), read, cropped and decoded."""
    return load_data(config.data, cache_dir=cache_dir(config))


def load_like_training(config: ExperimentConfig, data: DataConfig, classes: list[str]) -> LoadedData:
    """Another set (a cross-dataset test or extra training set), restricted to the classes both share;
    the config gave it the training data's image size and colour mode when it was validated."""
    return load_data(data, cache_dir=cache_dir(config), classes=classes, shared_only=True)


def augmented_copies(config: ExperimentConfig, loaded: LoadedData) -> LoadedData:
    """The MobileNetV2 paper's order: balance by augmented copies first; the split comes afterwards."""
    from fer_keras.data.balance import balanced_indices

    augmentation = config.augmentation
    if augmentation.balance == "none" or not augmentation.enabled:
        raise UserError("split.protocol augment_then_split needs augmentation.enabled and a balance mode "
                        "(per_class or total) to make the copies")
    copies = balanced_indices(loaded.label_ids, augmentation.balance, augmentation.balance_target, config.seed)
    return loaded.as_copies(copies)


def stream_seed(seed: int, resumed_epochs: int = 0) -> int:
    """The seed of a training stream (batch order, augmentations, dropout) that starts after
    ``resumed_epochs`` finished epochs: ``seed`` itself from the first epoch, a seed of its own after a
    resume, so the resumed epochs do not replay the first epochs' batches."""
    if not resumed_epochs:
        return seed
    return int(np.random.SeedSequence([seed, resumed_epochs]).generate_state(1)[0] >> 1)


def fold_datasets(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series, fold: int,
                  resumed_epochs: int = 0) -> FoldData:
    """The training and validation datasets of one fold (seed ``config.seed + fold``) and what scores it.

    ``resumed_epochs`` > 0 (a run resumed after that many epochs) keeps the fold's balanced samples
    and draws their order and augmentations from :func:`stream_seed` (augmented copies, which are
    also scored, keep the fold's seed).
    """
    parts = parts.to_numpy()
    train_idx = np.flatnonzero(parts == TRAIN)
    val_idx = np.flatnonzero(parts == VAL)
    test_idx = np.flatnonzero(parts == TEST)
    eval_idx, eval_name = (test_idx, config.data.label) if len(test_idx) else (val_idx, f"{config.data.label} (val)")
    batch = config.training.batch_size
    seed = config.seed + fold
    copies = config.split.protocol == "augment_then_split"
    if not copies:  # copies were balanced before the split
        train_idx = balanced(config, loaded.label_ids, train_idx, seed)
    stream = stream_seed(seed, resumed_epochs)
    augmenter = training_augmenter(config, seed if copies else stream)
    train = make_dataset(
        loaded.images, loaded.label_ids, batch, indices=train_idx, shuffle=config.training.shuffle,
        augmenter=augmenter, seed=stream, deterministic=config.runtime.deterministic, image_index=loaded.image_index,
    )
    validation = None
    if len(val_idx):
        validation = make_dataset(loaded.images, loaded.label_ids, batch, indices=val_idx,
                                  image_index=loaded.image_index, augmenter=augmenter if copies else None)
    return FoldData(train, validation, eval_idx, eval_name, augmenter)


def training_augmenter(config: ExperimentConfig, seed: int):
    """The training-batch augmenter, or None."""
    if not config.augmentation.enabled:
        return None
    from fer_keras.data.augment import build_augmenter

    return build_augmenter(config.augmentation, seed)


def balanced(config: ExperimentConfig, label_ids: np.ndarray, train_idx: np.ndarray, seed: int) -> np.ndarray:
    """Training indices after oversampling-by-augmentation balancing (unchanged when off)."""
    augmentation = config.augmentation
    if augmentation.balance == "none":
        return train_idx
    from fer_keras.data.balance import balanced_indices

    chosen = balanced_indices(label_ids[train_idx], augmentation.balance, augmentation.balance_target, seed)
    return train_idx[chosen]


def sample_indices(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series) -> np.ndarray:
    """The evaluation samples the report's emotion-analysis figure shows: one per class first, then
    any, ``report.sample_predictions`` in all (seeded)."""
    parts = parts.to_numpy()
    pool = np.flatnonzero(parts == TEST) if (parts == TEST).any() else np.flatnonzero(parts == VAL)
    pool = np.random.default_rng(config.seed).permutation(pool)
    firsts = [pool[loaded.label_ids[pool] == c][:1] for c in range(len(loaded.classes))]
    chosen = list(dict.fromkeys(np.concatenate(firsts + [pool]).tolist()))[:config.report.sample_predictions]
    return np.asarray(chosen, dtype=int)
