"""Run an experiment config end to end into a run directory.

config → data (read, crop, decode) → folds → per fold: model, fit, predictions → report.
Each finished fold leaves ``predictions_fold{k}.csv``; running the same command on the same
run directory skips finished folds and resumes the unfinished one from its last epoch
(Keras ``BackupAndRestore``), so a killed run loses at most one epoch.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import ExperimentConfig
from fer_keras.data.load import LoadedData, load_data
from fer_keras.data.pipeline import make_dataset
from fer_keras.data.splits import (
    TEST, TRAIN, VAL, load_folds, make_folds, part_counts, sample_keys, save_folds, subjects_overlap,
)
from fer_keras.errors import UserError
from fer_keras.evaluation.predictions import predict_probabilities, predictions_frame
from fer_keras.models.registry import build_model
from fer_keras.training import rundir
from fer_keras.training.fit import compile_model, fit
from fer_keras.training.runtime import apply_precision, make_strategy, set_seeds

log = logging.getLogger(__name__)


def run_experiment(
    config: ExperimentConfig,
    run_dir: Path | None = None,
    fold: int | None = None,
    build_report: bool = True,
) -> Path:
    """Train and evaluate every fold (or only ``fold``) of ``config``; returns the run directory."""
    set_seeds(config.seed, config.runtime.deterministic)
    apply_precision(config.runtime)
    run_dir = Path(run_dir) if run_dir else rundir.new_run_dir(config.runtime.out_dir, config.experiment)
    run_dir.mkdir(parents=True, exist_ok=True)
    rundir.write_text(run_dir / "config.yaml", config.to_yaml())

    loaded = load_data(config.data, cache_dir=Path(config.runtime.out_dir) / ".cache")
    rundir.write_csv(loaded.counts, run_dir / "data_counts.csv")
    rundir.write_csv(loaded.excluded, run_dir / "excluded.csv")
    folds = _folds(config, loaded, run_dir)
    _save_samples(config, loaded, folds[0], run_dir)

    wanted = range(len(folds)) if fold is None else [fold]
    for k in wanted:
        if not 0 <= k < len(folds):
            raise UserError(f"--fold {k} is out of range: this split has folds 0..{len(folds) - 1}")
        done = run_dir / f"predictions_fold{k}.csv"
        if done.exists():
            log.info("fold %d already finished; skipping", k)
            continue
        predictions = train_fold(config, loaded, folds[k], k, run_dir)
        rundir.write_csv(predictions, done)

    if build_report:
        from fer_keras.reports.report import build_report as write_report

        write_report(run_dir)
    return run_dir


def _folds(config: ExperimentConfig, loaded: LoadedData, run_dir: Path) -> list[pd.Series]:
    """The run's folds: read back from ``splits.json`` when resuming, else made and saved."""
    path = run_dir / "splits.json"
    if path.exists():
        return load_folds(loaded.table, path)
    folds = make_folds(loaded.table, config.split, config.seed)
    save_folds(folds, loaded.table, path)
    counts = pd.concat({f"fold{k}": part_counts(loaded.table, f) for k, f in enumerate(folds)}, names=["fold"])
    rundir.write_csv(counts, run_dir / "split_counts.csv", index=True)
    overlap = subjects_overlap(loaded.table, folds[0])
    rundir.write_json(
        {
            "kind": config.split.kind,
            "folds": len(folds),
            "subject_independent": config.split.subject_independent,
            "subjects": int(loaded.table["subject"].nunique()),
            "subjects_shared_between_parts_fold0": {k: len(v) for k, v in overlap.items()},
        },
        run_dir / "split_protocol.json",
    )
    return folds


def train_fold(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series, fold: int, run_dir: Path) -> pd.DataFrame:
    """Build, train and evaluate one fold; returns its predictions table."""
    parts = parts.to_numpy()
    train_idx = np.flatnonzero(parts == TRAIN)
    val_idx = np.flatnonzero(parts == VAL)
    test_idx = np.flatnonzero(parts == TEST)
    eval_idx, eval_name = (test_idx, TEST) if len(test_idx) else (val_idx, VAL)
    batch = config.training.batch_size
    seed = config.seed + fold

    train_idx = _balanced(config, loaded.label_ids, train_idx, seed)
    train = make_dataset(
        loaded.images, loaded.label_ids, batch, indices=train_idx,
        shuffle=config.training.shuffle, augmenter=_augmenter(config, seed), seed=seed,
    )
    validation = make_dataset(loaded.images, loaded.label_ids, batch, indices=val_idx) if len(val_idx) else None

    with make_strategy(config.runtime).scope():
        model = make_model(config, loaded.input_shape, len(loaded.classes))
        compile_model(model, config)
    fit(model, train, validation, config, run_dir, fold=fold)

    probabilities = predict_probabilities(model, loaded.images, eval_idx, batch)
    test_set = config.data.dataset if eval_name == TEST else f"{config.data.dataset} (val)"
    return predictions_frame(loaded.table, eval_idx, loaded.label_ids[eval_idx], probabilities, loaded.classes, fold, test_set)


def _save_samples(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series, run_dir: Path) -> None:
    """Keep a few evaluation images (one per class first) for the report's emotion-analysis figure."""
    count = config.report.sample_predictions
    if count == 0 or (run_dir / "samples.npz").exists():
        return
    parts = parts.to_numpy()
    pool = np.flatnonzero(parts == TEST) if (parts == TEST).any() else np.flatnonzero(parts == VAL)
    rng = np.random.default_rng(config.seed)
    pool = rng.permutation(pool)
    firsts = [pool[loaded.label_ids[pool] == c][:1] for c in range(len(loaded.classes))]
    chosen = list(dict.fromkeys(np.concatenate(firsts + [pool]).tolist()))[:count]
    keys = sample_keys(loaded.table)[chosen]
    temporary = run_dir / ".tmp_samples.npz"
    np.savez_compressed(temporary, images=loaded.images[chosen], keys=keys.astype(str))
    temporary.replace(run_dir / "samples.npz")


def make_model(config: ExperimentConfig, input_shape: tuple[int, int, int], num_classes: int):
    """The config's model from the registry (weights passed only when the config sets them)."""
    options = dict(config.model.options)
    if config.model.weights is not None:
        options["weights"] = config.model.weights
    return build_model(config.model.name, input_shape, num_classes, **options)


def _augmenter(config: ExperimentConfig, seed: int):
    """The training-batch augmenter, or None."""
    if not config.augmentation.enabled:
        return None
    from fer_keras.data.augment import build_augmenter

    return build_augmenter(config.augmentation, seed)


def _balanced(config: ExperimentConfig, label_ids: np.ndarray, train_idx: np.ndarray, seed: int) -> np.ndarray:
    """Training indices after oversampling-by-augmentation balancing (unchanged when off)."""
    augmentation = config.augmentation
    if augmentation.balance == "none":
        return train_idx
    from fer_keras.data.balance import balanced_indices

    chosen = balanced_indices(label_ids[train_idx], augmentation.balance, augmentation.balance_target, seed)
    return train_idx[chosen]
