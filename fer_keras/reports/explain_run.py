"""Grad-CAM for a run: per-class mean maps of each test set, and their DICE / IoU comparisons.

After fold 0 trains, each evaluated set gets ``gradcam_<set>.npz`` (its name fields as in a
predictions table, per-class mean maps and mean images) and ``gradcam_<set>.png``, ``<set>``
being the slug of the set's display name. Files saved before the name fields were stored hold
only ``name``, read as ``test_set``. The report then compares (a) the same model's maps on
two datasets, (b) this run's maps with another run's on the same set (``compare_runs``), and
(c) each map with a centred elliptical face-region mask — the attention paper's Figs. 1–2.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fer_keras.config import GradcamConfig
from fer_keras.evaluation import gradcam
from fer_keras.evaluation.predictions import NAME_FIELDS
from fer_keras.reports import plots
from fer_keras.reports.names import display_name
from fer_keras.rundir import RunDir


def slug(text: str) -> str:
    """A file-name-safe form of a test-set name."""
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_").lower()


def explain_set(model, images: np.ndarray, label_ids: np.ndarray, classes: list[str], test_set: str,
                config: GradcamConfig, run_dir: Path | RunDir, seed: int = 0, variant: str = "") -> Path:
    """Maps of up to ``max_images`` images of one set (their true class), averaged per class, saved."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(len(images))[: config.max_images])
    maps = gradcam.gradcam_maps(model, images[chosen], label_ids[chosen], layer=config.layer, method=config.method)
    names = [classes[i] for i in label_ids[chosen]]
    means = gradcam.class_mean_maps(maps, names, classes)
    mean_images = {c: images[chosen][np.array(names) == c].mean(axis=0) for c in means}
    fields = {"test_set": test_set, "variant": variant, "method": "", "model": ""}
    name = slug(display_name(**fields))
    run = RunDir.of(run_dir)
    path = run.write_file(run.gradcam_path(name), lambda temporary: np.savez_compressed(
        temporary, **fields, classes=np.array(list(means)), maps=np.stack(list(means.values())),
        images=np.stack([mean_images[c] for c in means]),
    ))
    plots.class_mean_grid(means, run.gradcam_path(name, "png"), mean_images=mean_images)
    return path


def load_maps(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """A saved set's name fields and its per-class mean maps."""
    stored = np.load(path, allow_pickle=False)
    if "test_set" in stored:
        fields = {f: str(stored[f]) if f in stored else "" for f in NAME_FIELDS}
    else:
        fields = {"test_set": str(stored["name"]), "variant": "", "method": "", "model": ""}
    return fields, dict(zip(stored["classes"].tolist(), stored["maps"]))


def face_mask(shape: tuple[int, int]) -> np.ndarray:
    """A centred ellipse covering the face region of an aligned face crop (H, W) bool."""
    height, width = shape
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (width // 2, int(height * 0.52)), (int(width * 0.38), int(height * 0.46)), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def comparisons(run_dir: Path, config: GradcamConfig, compare_runs: list[str] = ()) -> pd.DataFrame:
    """Mean DICE and IoU over classes for every pair the run can compare.

    Sets are named by their display names; another run's set is this run's when both have the
    same display name (so runs saved before the name fields were stored still pair up).
    """
    saved = [(display_name(**fields), fields, maps)
             for fields, maps in map(load_maps, RunDir(run_dir).gradcam_maps())]
    rows = []

    def add(kind: str, first: str, second: str, table: pd.DataFrame) -> None:
        mean = table[table["class"] == "mean"].iloc[0]
        rows.append({"comparison": kind, "a": first, "b": second, "classes": len(table) - 1,
                     "mean DICE": round(float(mean["dice"]), 3), "mean IoU": round(float(mean["iou"]), 3)})

    for (name_a, _, maps_a), (name_b, _, maps_b) in combinations(saved, 2):
        shared = {c: maps_a[c] for c in maps_a if c in maps_b}
        if shared:
            add("same model, two datasets", name_a, name_b,
                gradcam.compare_class_maps(shared, {c: maps_b[c] for c in shared}, level=config.threshold))
    for other in compare_runs:
        theirs = {display_name(**fields): (fields, maps)
                  for fields, maps in map(load_maps, RunDir(other).gradcam_maps())}
        for name, fields, maps in saved:
            if name in theirs:
                their_fields, their_maps = theirs[name]
                shared = [c for c in maps if c in their_maps]
                add("two models, one dataset", display_name(**{**fields, "model": "this run"}),
                    display_name(**{**their_fields, "model": Path(other).name}),
                    gradcam.compare_class_maps({c: maps[c] for c in shared}, {c: their_maps[c] for c in shared},
                                               level=config.threshold))
    if config.face_mask:
        for name, _, maps in saved:
            mask = face_mask(next(iter(maps.values())).shape)
            add("map vs face region", name, "face ellipse", gradcam.compare_with_mask(maps, mask, level=config.threshold))
    return pd.DataFrame(rows, columns=["comparison", "a", "b", "classes", "mean DICE", "mean IoU"])
