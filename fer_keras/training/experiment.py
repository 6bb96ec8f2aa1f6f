"""Run an experiment config end to end into a run directory.

config → data (read, crop, decode) → folds → per fold: model, fit, predictions → report.

Modes, all chosen in the config: ``split.kind`` holdout / official / kfold; ``test_datasets``
adds cross-dataset tests of every fold's model (on the classes both share); ``transfer``
trains a source stage first, then fine-tunes it on the target beside a from-scratch twin;
``ensemble`` averages finished runs and trains nothing.
Each finished fold leaves ``predictions_fold{k}.csv``; running the same command on the same
run directory skips finished folds and resumes the unfinished one from its last epoch
(:mod:`fer_keras.training.checkpoints`, written whole), so a killed run loses at most one epoch.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from fer_keras.config import ExperimentConfig
from fer_keras.data.faces.detect import with_detector_chosen
from fer_keras.data.extra import extra_training_counts, with_extra_training
from fer_keras.data.fold_data import (
    FoldData, augmented_copies, fold_datasets, load_like_training, load_run_data, sample_indices, stream_seed,
)
from fer_keras.data.load import LoadedData
from fer_keras.data.splits import load_folds, make_folds, part_counts, sample_keys, save_folds, subjects_overlap
from fer_keras.errors import UserError
from fer_keras.reports.explain_run import explain_set
from fer_keras.reports.notes import add_note
from fer_keras.reports.provenance import describe_run
from fer_keras.evaluation.predictions import predict_probabilities, predictions_frame
from fer_keras.models.from_run import load_trained_model, trained_model_path
from fer_keras.models.registry import build_model
from fer_keras.rundir import RunDir
from fer_keras.training.compute import record_environment
from fer_keras.training.checkpoints import committed_epochs
from fer_keras.training.ensemble import ensemble_members, run_ensemble
from fer_keras.training.fit import compile_model, fit
from fer_keras.training.run_lifecycle import open_run
from fer_keras.training.runtime import apply_precision, make_strategy, set_seeds

log = logging.getLogger(__name__)


def run_experiment(
    config: ExperimentConfig,
    run_dir: Path | None = None,
    fold: int | None = None,
    build_report: bool = True,
) -> Path:
    """Train and evaluate every fold (or only ``fold``) of ``config``; returns the run directory."""
    config = with_detectors_chosen(config)
    set_seeds(config.seed, config.runtime.deterministic)
    before = keras.mixed_precision.global_policy()
    precision = apply_precision(config.runtime)
    try:
        with open_run(config.to_yaml(), run_dir, config.runtime.out_dir, config.experiment, fold) as run:
            record_environment(run, precision)
            return _run(config, run, fold, build_report)
    finally:  # the caller's policy again (a notebook's next model is not built in the run's precision)
        keras.mixed_precision.set_global_policy(before)


def with_detectors_chosen(config: ExperimentConfig) -> ExperimentConfig:
    """``config`` with every ``face_crop.detector: auto`` replaced by the detector this machine uses,
    so the run's config.yaml names it (and resuming elsewhere compares like with like)."""
    config = config.model_copy(deep=True)
    sources = [config.data, *config.test_datasets, *config.train_extra] + ([config.transfer.source] if config.transfer else [])
    for data in sources:
        data.face_crop = with_detector_chosen(data.face_crop)
    return config


def _run(config: ExperimentConfig, run: RunDir, fold: int | None, build_report: bool) -> Path:
    """The body of :func:`run_experiment` inside its (locked) run directory."""
    if config.ensemble is not None:
        for k, rows in enumerate(run_ensemble(config)):
            run.write_csv(run.predictions_path(k), rows)
        for path, origin in ensemble_members(config):
            add_note(run, "ensemble_member", path=path, origin=origin)
        return _finish(run, build_report)

    loaded = load_run_data(config)
    run.write_csv(run.data_counts_path, loaded.counts)
    run.write_csv(run.excluded_path, loaded.excluded)
    if config.split.protocol == "augment_then_split":
        images = len(loaded.table)
        loaded = augmented_copies(config, loaded)
        add_note(run, "augment_then_split", images=images, copies=len(loaded.table))
    folds = _folds(config, loaded, run)
    _save_samples(config, loaded, folds[0], run)
    test_sets = [(data.label, load_like_training(config, data, loaded.classes)) for data in config.test_datasets]
    extras = [(data.label, load_like_training(config, data, loaded.classes), data.repeat)
              for data in config.train_extra if data.repeat]
    if extras:
        run.write_csv(run.train_extra_counts_path, extra_training_counts(extras))
        loaded, folds = with_extra_training(loaded, folds, extras)
        run.write_csv(run.excluded_path, loaded.excluded)
    variants = _variants(config, run)
    baselines = _baselines(config, loaded, folds, run)

    wanted = range(len(folds)) if fold is None else [fold]
    for k in wanted:
        if not 0 <= k < len(folds):
            raise UserError(f"--fold {k} is out of range: this split has folds 0..{len(folds) - 1}")
        if run.predictions_path(k).exists():
            log.info("fold %d already finished; skipping", k)
            continue
        predictions = train_fold(config, loaded, folds[k], k, run, test_sets, variants)
        if baselines is not None:
            predictions = pd.concat([predictions, baselines[baselines["fold"] == k]], ignore_index=True)
        run.write_csv(run.predictions_path(k), predictions)
    return _finish(run, build_report)


def _baselines(config: ExperimentConfig, loaded: LoadedData, folds: list[pd.Series], run: RunDir) -> pd.DataFrame | None:
    """Predictions of the scikit-learn baselines on every fold (None when off); summary to baselines.csv."""
    if not config.baselines.enabled:
        return None
    if loaded.image_index is not None:
        raise UserError("baselines cannot run with split.protocol augment_then_split; use split_then_augment")
    from fer_keras.evaluation.baselines import run_baselines

    results = run_baselines(loaded, folds, [tuple(c) for c in config.baselines.combos], seed=config.seed)
    run.write_csv(run.baselines_path, results.summary)
    return results.predictions


def _finish(run: RunDir, build_report: bool) -> Path:
    if build_report:
        from fer_keras.reports.run_report import build_report as write_report

        write_report(run)
    return run.path


def _variants(config: ExperimentConfig, run: RunDir) -> list[tuple[str, str | None]]:
    """(variant, starting model) for each model trained per fold.

    Plain runs train one model (from ``model.init_from`` when set), variant ``""``. A transfer run
    first trains (or reuses) the source stage, then fine-tunes it (``"fine-tuned"``), and trains a
    scratch twin (``"scratch"``) when asked. The variant is the predictions' ``variant`` name field.
    """
    if config.transfer is None:
        if config.model.init_from is not None:
            trained_model_path(config.model.init_from, "model.init_from")  # a bad path: one line, before training
        return [("", config.model.init_from)]
    if config.transfer.source_model is not None:
        trained_model_path(config.transfer.source_model, "transfer.source_model")
    source = config.transfer.source_model or str(_train_source(config, run.source))
    variants = [("fine-tuned", source)]
    if config.transfer.compare_scratch:
        variants.append(("scratch", None))
    return variants


def _train_source(config: ExperimentConfig, source: RunDir) -> Path:
    """Stage 1 of a transfer run, as a run of its own (with its own report) inside the target run."""
    transfer = config.transfer
    training = config.training.model_copy(update={"epochs": transfer.source_epochs or config.training.epochs})
    stage = config.model_copy(update={
        "experiment": f"{config.experiment}_source", "data": transfer.source, "split": transfer.source_split,
        "training": training, "transfer": None, "test_datasets": [],
        "model": config.model.model_copy(update={"init_from": None}),
    })
    run_experiment(stage, run_dir=source.path, fold=0)
    return source.model_path(0)


def _folds(config: ExperimentConfig, loaded: LoadedData, run: RunDir) -> list[pd.Series]:
    """The run's folds: read back from ``splits.json`` when resuming, else made and saved."""
    if run.splits_path.exists():
        return load_folds(loaded.table, run.splits_path)
    folds = make_folds(loaded.table, config.split, config.seed)
    run.write_file(run.splits_path, lambda temporary: save_folds(folds, loaded.table, temporary))
    counts = pd.concat({f"fold{k}": part_counts(loaded.table, f) for k, f in enumerate(folds)}, names=["fold"])
    run.write_csv(run.split_counts_path, counts, index=True)
    overlap = subjects_overlap(loaded.table, folds[0])
    run.write_json(
        run.split_protocol_path,
        {
            "kind": config.split.kind,
            "folds": len(folds),
            "subject_independent": config.split.subject_independent,
            "protocol": config.split.protocol,
            "subjects": int(loaded.table["subject"].nunique()),
            "subjects_shared_between_parts_fold0": {k: len(v) for k, v in overlap.items()},
        },
    )
    return folds


def train_fold(
    config: ExperimentConfig,
    loaded: LoadedData,
    parts: pd.Series,
    fold: int,
    run_dir: Path | RunDir,
    test_sets: list[tuple[str, LoadedData]] = (),
    variants: list[tuple[str, str | None]] = (("", None),),
) -> pd.DataFrame:
    """Build, train and evaluate one fold (every variant); returns its predictions table."""
    run = RunDir.of(run_dir)
    data = fold_datasets(config, loaded, parts, fold)
    frames = []
    for variant, start in variants:
        tag = f"_{variant}" if variant else ""
        training = _resumed_stream(config, loaded, parts, fold, run, tag) or data
        with make_strategy(config.runtime).scope():
            model = _starting_model(config, loaded, start, run)
            compile_model(model, config, steps_per_epoch=training.steps_per_epoch)
        fit(model, training.train, training.validation, config, run, fold=fold, tag=tag)
        evaluated = [(data.eval_name, loaded, data.eval_indices)]
        evaluated += [(name, test, np.arange(len(test.table))) for name, test in test_sets]
        for name, test, indices in evaluated:
            probabilities = predict_probabilities(
                model, test.images, indices, config.training.batch_size, image_index=test.image_index,
                augmenter=data.eval_augmenter(test), flip=config.model.test_time_flip,
            )
            frames.append(predictions_frame(
                test.table, indices, test.label_ids[indices], probabilities, loaded.classes, fold, name,
                variant=variant,
            ))
            if fold == 0 and config.report.gradcam.enabled:
                explain_set(model, test.pixels(indices), test.label_ids[indices], loaded.classes, name,
                            config.report.gradcam, run, seed=config.seed, variant=variant)
    return pd.concat(frames, ignore_index=True)


def _resumed_stream(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series, fold: int, run: RunDir,
                    tag: str) -> FoldData | None:
    """For a fold resumed after some epochs: its datasets and global seed (dropout) drawn anew, so its
    next epochs do not replay its first ones' batches, augmentations and dropout masks; None otherwise."""
    resumed = committed_epochs(run.backup_path(fold, tag))
    if not resumed:
        return None
    seed = stream_seed(config.seed + fold, resumed)
    set_seeds(seed, config.runtime.deterministic)
    add_note(run, "stream_resumed", fold=fold, variant=tag.removeprefix("_"), done=resumed, seed=seed)
    return fold_datasets(config, loaded, parts, fold, resumed_epochs=resumed)


def _starting_model(config: ExperimentConfig, loaded: LoadedData, start: str | None, run: RunDir):
    """A fresh registry model, or a trained one (head rebuilt, noted in the report, when classes differ)."""
    if start is None:
        return make_model(config, loaded.input_shape, len(loaded.classes))
    model, rebuilt, own = load_trained_model(start, loaded.classes, loaded.input_shape, config.model.init_fine_tune)
    kind = "head_rebuilt" if rebuilt else "classes_unknown" if own is None else "same_classes"
    add_note(run, kind, start=str(start), classes=list(loaded.classes), own=list(own) if own else None,
             trained=config.model.init_fine_tune)
    origin = describe_run(trained_model_path(start))
    if origin:
        add_note(run, "starting_model", origin=origin)
    return model


def _save_samples(config: ExperimentConfig, loaded: LoadedData, parts: pd.Series, run: RunDir) -> None:
    """Keep a few evaluation images (one per class first) for the report's emotion-analysis figure; none
    when ``report.sample_faces`` is off (a research-only dataset's faces stay out of the run folder)."""
    if config.report.sample_predictions == 0 or not config.report.sample_faces or run.samples_path.exists():
        return
    chosen = sample_indices(config, loaded, parts)
    keys = sample_keys(loaded.table)[chosen]
    run.write_file(run.samples_path, lambda temporary: np.savez_compressed(
        temporary, images=loaded.pixels(chosen), keys=keys.astype(str)))


def make_model(config: ExperimentConfig, input_shape: tuple[int, int, int], num_classes: int):
    """The config's model from the registry (weights passed only when the config sets them)."""
    options = dict(config.model.options)
    if config.model.weights is not None:
        options["weights"] = config.model.weights
    return build_model(config.model.name, input_shape, num_classes, **options)
