"""Report figures (seaborn / matplotlib): each figure is drawn, written whole to a PNG, and closed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from fer_keras.labels import abbreviation  # noqa: E402
from fer_keras.atomic_write import write_file  # noqa: E402


def _save(figure, path: Path) -> Path:
    """Save the PNG whole (:func:`fer_keras.atomic_write.write_file`); close the figure."""
    try:
        return write_file(path, lambda temporary: figure.savefig(temporary, dpi=110, bbox_inches="tight"))
    finally:
        plt.close(figure)


def confusion_pair(raw: pd.DataFrame, normalised: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Raw counts (left) and row-normalised (right) confusion matrices, class abbreviations on the axes."""
    ticks = [abbreviation(c) for c in raw.index]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    sns.heatmap(raw, annot=True, fmt="d", cmap="Blues", cbar=False, ax=axes[0], xticklabels=ticks, yticklabels=ticks)
    sns.heatmap(
        normalised, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=axes[1],
        xticklabels=ticks, yticklabels=ticks,
    )
    for axis, name in zip(axes, ("counts", "row-normalised")):
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(name)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def per_class_bars(per_class: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Single-class accuracy as bars."""
    figure, axis = plt.subplots(figsize=(6.5, 3.5))
    sns.barplot(x=[abbreviation(c) for c in per_class["class"]], y=per_class["accuracy"] * 100, ax=axis, color="#4c72b0")
    axis.set_ylim(0, 100)
    axis.set_ylabel("accuracy (%)")
    axis.set_title(title or "single-class accuracy")
    return _save(figure, path)


def learning_curves(histories: dict[str, pd.DataFrame], path: Path) -> Path:
    """Train/validation accuracy and loss per epoch, one line pair per fold."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in histories.items():
        for axis, metric in zip(axes, ("accuracy", "loss")):
            if metric in history:
                axis.plot(history["epoch"] + 1, history[metric], label=f"{name} train")
            if f"val_{metric}" in history:
                axis.plot(history["epoch"] + 1, history[f"val_{metric}"], "--", label=f"{name} val")
    for axis, metric in zip(axes, ("accuracy", "loss")):
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if len(labels) <= 8 and labels:
        axes[0].legend(fontsize=8)
    return _save(figure, path)


def folds_boxplot(fold_accuracy: pd.DataFrame, path: Path) -> Path:
    """Fold accuracies per test set; points beyond 1.5 IQR drawn as outliers."""
    figure, axis = plt.subplots(figsize=(max(4, 2 + 1.5 * fold_accuracy["test_set"].nunique()), 4))
    data = fold_accuracy.assign(accuracy=fold_accuracy["accuracy"] * 100)
    sns.boxplot(data=data, x="test_set", y="accuracy", whis=1.5, ax=axis, color="#a1c9f4")
    sns.stripplot(data=data, x="test_set", y="accuracy", ax=axis, color="black", size=3)
    axis.set_ylabel("fold accuracy (%)")
    axis.set_xlabel("")
    return _save(figure, path)


def probability_bars(images: list[np.ndarray], frame: pd.DataFrame, classes: list[str], path: Path) -> Path:
    """Sample test images, each beside its predicted class-probability bars (emotion analysis)."""
    count = len(images)
    figure, axes = plt.subplots(count, 2, figsize=(7, 1.8 * count), squeeze=False, gridspec_kw={"width_ratios": [1, 2.5]})
    ticks = [abbreviation(c) for c in classes]
    for row, (image, (_, sample)) in enumerate(zip(images, frame.iterrows())):
        picture = image[..., 0] if image.shape[-1] == 1 else image
        axes[row, 0].imshow(picture.astype(np.uint8), cmap="gray" if image.shape[-1] == 1 else None)
        axes[row, 0].axis("off")
        axes[row, 0].set_title(f"true: {abbreviation(sample['true'])}", fontsize=8)
        probabilities = [sample[f"prob_{c}"] for c in classes]
        colours = ["#55a868" if c == sample["predicted"] else "#8c8c8c" for c in classes]
        axes[row, 1].barh(ticks, probabilities, color=colours)
        axes[row, 1].set_xlim(0, 1)
        axes[row, 1].invert_yaxis()
        axes[row, 1].tick_params(labelsize=7)
    return _save(figure, path)


def _display(image) -> tuple[np.ndarray, str | None]:
    """An image as matplotlib shows it (uint8, gray 2-D or RGB) and its colour map."""
    image = np.clip(np.asarray(image, dtype="float32"), 0, 255).astype("uint8")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return image, ("gray" if image.ndim == 2 else None)


def _panels(count: int, columns: int, size: float = 1.9):
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    return figure, axes.ravel()


def class_mean_grid(mean_maps: Mapping, path, mean_images: Mapping | None = None, columns: int = 7,
                    alpha: float = 0.5) -> Path:
    """PNG with one panel per class: its mean Grad-CAM map, over the class's mean image when given."""
    from fer_keras.errors import ExplanationError
    from fer_keras.evaluation.gradcam import resized  # here: the report runs without Keras

    if not mean_maps:
        raise ExplanationError("no class mean maps to draw")
    figure, axes = _panels(len(mean_maps), columns, size=2.2)
    for axis, (name, cam) in zip(axes, mean_maps.items()):
        if mean_images is not None and name in mean_images:
            shown, cmap = _display(mean_images[name])
            axis.imshow(shown, cmap=cmap)
            axis.imshow(resized(cam, shown.shape), cmap="jet", alpha=alpha, vmin=0, vmax=1)
        else:
            axis.imshow(cam, cmap="jet", vmin=0, vmax=1)
        axis.set_title(str(name), fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _save(figure, path)
