"""Ensemble of finished runs: average their class probabilities sample by sample.

Members must have been evaluated on the same samples (same data, split and seed), as the three
custom CNNs of the cross-dataset paper are; members scored on different samples are an error,
never a silently shared subset. The ensemble's predictions sit beside each member's in one
predictions table, so the report shows them side by side: the name field
``model`` is ``"ensemble"`` on the averaged rows and the member's experiment on its rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import ExperimentConfig, load_config
from fer_keras.errors import EnsembleError
from fer_keras.evaluation.predictions import NAME_FIELDS, with_name_fields
from fer_keras.labels import classes_of, probability_columns
from fer_keras.reports.provenance import describe_run
from fer_keras.rundir import RunDir

KEYS = ["fold", *NAME_FIELDS, "key"]


def member_predictions(run_dir: str | Path) -> tuple[str, pd.DataFrame]:
    """A member's name (its experiment) and its predictions table (with every name field)."""
    run = RunDir(run_dir)
    if not run.all_predictions_path.exists():
        raise EnsembleError(f"ensemble member {run.path} has no {run.all_predictions_path.name}; finish its run first")
    name = load_config(run.config_path).experiment if run.config_path.exists() else run.path.name
    frame = with_name_fields(pd.read_csv(run.all_predictions_path))
    if (frame["model"] != "").any():
        raise EnsembleError(f"ensemble member {run.path} is itself an ensemble run; list its members instead")
    return name, frame


def combine(members: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Rows of every member (``model``: its name) plus the averaged ensemble rows (``model``: ``"ensemble"``)."""
    classes = classes_of(members[0][1])
    columns = probability_columns(members[0][1])
    for name, frame in members[1:]:
        if classes_of(frame) != classes:
            raise EnsembleError(f"ensemble member {name} predicts {classes_of(frame)}, not {classes}")
    keyed = [frame.set_index(KEYS).sort_index() for _, frame in members]
    common = keyed[0].index
    for (name, _), frame in zip(members[1:], keyed[1:]):
        shared = common.intersection(frame.index)
        if len(shared) != len(common) or len(shared) != len(frame.index):  # never a silent subset
            raise EnsembleError(
                f"ensemble members were scored on different samples: {name} was scored on {len(frame.index)} "
                f"samples, {members[0][0]} on {len(keyed[0].index)} ({len(shared)} in common); "
                "were they run with the same data, split and seed?")
    mean = np.mean([frame.loc[common, columns].to_numpy() for frame in keyed], axis=0)
    first = keyed[0].loc[common]
    ensemble = first[["subject", "true"]].copy()
    ensemble[columns] = mean
    ensemble["predicted"] = [classes[i] for i in mean.argmax(axis=1)]
    ensemble["correct"] = ensemble["true"] == ensemble["predicted"]
    ensemble = ensemble.reset_index()
    ensemble["model"] = "ensemble"
    rows = [ensemble]
    for (name, _), frame in zip(members, keyed):
        member = frame.loc[common].reset_index()
        member["model"] = name
        rows.append(member)
    order = KEYS + ["subject", "true", "predicted", "correct"] + columns
    return pd.concat(rows, ignore_index=True)[order]


def ensemble_members(config: ExperimentConfig) -> list[tuple[str, str | None]]:
    """Each member's path and what it is (model, data, epochs run and kept, test accuracy), when known."""
    return [(str(path), describe_run(path)) for path in config.ensemble.members]


def run_ensemble(config: ExperimentConfig) -> list[pd.DataFrame]:
    """Per fold, the combined predictions of the config's ensemble members."""
    combined = combine([member_predictions(path) for path in config.ensemble.members])
    return [rows for _, rows in combined.groupby("fold", sort=True)]
