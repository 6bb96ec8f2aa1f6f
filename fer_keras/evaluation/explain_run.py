"""Grad-CAM for a run: per-class mean maps of each test set, and their DICE / IoU comparisons.

After fold 0 trains, each evaluated set gets ``gradcam_<set>.npz`` (per-class mean maps and
mean images) and ``gradcam_<set>.png``. The report then compares (a) the same model's maps on
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

PREFIX = "gradcam_"


def slug(text: str) -> str:
    """A file-name-safe form of a test-set name."""
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_").lower()


def explain_set(model, images: np.ndarray, label_ids: np.ndarray, classes: list[str], name: str,
                config: GradcamConfig, run_dir: Path, seed: int = 0) -> Path:
    """Maps of up to ``max_images`` images of one set (their true class), averaged per class, saved."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(len(images))[: config.max_images])
    maps = gradcam.gradcam_maps(model, images[chosen], label_ids[chosen], layer=config.layer, method=config.method)
    names = [classes[i] for i in label_ids[chosen]]
    means = gradcam.class_mean_maps(maps, names, classes)
    mean_images = {c: images[chosen][np.array(names) == c].mean(axis=0) for c in means}
    path = run_dir / f"{PREFIX}{slug(name)}.npz"
    np.savez_compressed(
        path, name=name, classes=np.array(list(means)), maps=np.stack(list(means.values())),
        images=np.stack([mean_images[c] for c in means]),
    )
    gradcam.class_mean_grid(means, run_dir / f"{PREFIX}{slug(name)}.png", mean_images=mean_images)
    return path


def load_maps(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """A saved set's name and its per-class mean maps."""
    stored = np.load(path, allow_pickle=False)
    return str(stored["name"]), dict(zip(stored["classes"].tolist(), stored["maps"]))


def face_mask(shape: tuple[int, int]) -> np.ndarray:
    """A centred ellipse covering the face region of an aligned face crop (H, W) bool."""
    height, width = shape
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (width // 2, int(height * 0.52)), (int(width * 0.38), int(height * 0.46)), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def comparisons(run_dir: Path, config: GradcamConfig, compare_runs: list[str] = ()) -> pd.DataFrame:
    """Mean DICE and IoU over classes for every pair the run can compare."""
    saved = [load_maps(p) for p in sorted(Path(run_dir).glob(f"{PREFIX}*.npz"))]
    rows = []

    def add(kind: str, first: str, second: str, table: pd.DataFrame) -> None:
        mean = table[table["class"] == "mean"].iloc[0]
        rows.append({"comparison": kind, "a": first, "b": second, "classes": len(table) - 1,
                     "mean DICE": round(float(mean["dice"]), 3), "mean IoU": round(float(mean["iou"]), 3)})

    for (name_a, maps_a), (name_b, maps_b) in combinations(saved, 2):
        shared = {c: maps_a[c] for c in maps_a if c in maps_b}
        if shared:
            add("same model, two datasets", name_a, name_b,
                gradcam.compare_class_maps(shared, {c: maps_b[c] for c in shared}, level=config.threshold))
    for other in compare_runs:
        theirs = dict(load_maps(p) for p in sorted(Path(other).glob(f"{PREFIX}*.npz")))
        for name, maps in saved:
            if name in theirs:
                shared = [c for c in maps if c in theirs[name]]
                add("two models, one dataset", f"this run · {name}", f"{Path(other).name} · {name}",
                    gradcam.compare_class_maps({c: maps[c] for c in shared}, {c: theirs[name][c] for c in shared},
                                               level=config.threshold))
    if config.face_mask:
        for name, maps in saved:
            mask = face_mask(next(iter(maps.values())).shape)
            add("map vs face region", name, "face ellipse", gradcam.compare_with_mask(maps, mask, level=config.threshold))
    return pd.DataFrame(rows, columns=["comparison", "a", "b", "classes", "mean DICE", "mean IoU"])
