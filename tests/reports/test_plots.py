"""fer_keras/reports/plots.py: each figure shows its data and lands as a whole PNG of the expected size."""

from __future__ import annotations

import struct
from pathlib import Path

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest

from fer_keras.reports import plots

CLASSES = ["happiness", "sadness", "neutral"]
TICKS = ["HA", "SA", "NE"]
DPI = 110


@pytest.fixture
def figures(monkeypatch):
    """The figures the plots save, captured as they are saved."""
    captured = []
    save = plots._save

    def capture(figure, path):
        captured.append(figure)
        return save(figure, path)

    monkeypatch.setattr(plots, "_save", capture)
    return captured


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header; fails for anything else."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82")  # written to the end
    return struct.unpack(">II", data[16:24])


def assert_written(path: Path, returned: Path, figure_inches: tuple[float, float]) -> tuple[int, int]:
    """The returned path is the PNG, no temporary file is left, and the size fits the figure."""
    assert returned == path
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    width, height = png_size(path)
    # bbox_inches="tight" trims empty margins and takes in titles outside the axes
    assert figure_inches[0] * DPI / 2 < width < figure_inches[0] * DPI * 1.25
    assert figure_inches[1] * DPI / 2 < height < figure_inches[1] * DPI * 1.25
    return width, height


def texts(axis) -> list[str]:
    return [t.get_text() for t in axis.texts]


def tick_labels(axis, which: str) -> list[str]:
    return [t.get_text() for t in getattr(axis, f"get_{which}ticklabels")()]


def confusion() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.DataFrame([[5, 1, 0], [2, 6, 2], [0, 0, 4]], index=CLASSES, columns=CLASSES)
    return raw, raw.div(raw.sum(axis=1), axis=0)


def history(epochs: int = 3, validation: bool = True, metrics=("accuracy", "loss")) -> pd.DataFrame:
    frame = {"epoch": np.arange(epochs)}
    for metric in metrics:
        frame[metric] = np.linspace(0.3, 0.6, epochs)
        if validation:
            frame[f"val_{metric}"] = np.linspace(0.2, 0.5, epochs)
    return pd.DataFrame(frame)


def test_confusion_pair_shows_counts_and_row_fractions_with_abbreviated_axes(tmp_path, figures):
    raw, normalised = confusion()
    path = tmp_path / "confusion_matrix.png"
    width, height = assert_written(path, plots.confusion_pair(raw, normalised, path, "fer2013"), (11, 4.6))
    assert width > 1.8 * height  # two matrices side by side
    counts, fractions = figures[0].axes[:2]
    assert texts(counts) == [str(v) for v in raw.to_numpy().ravel()]
    assert texts(fractions) == [f"{v:.2f}" for v in normalised.to_numpy().ravel()]
    assert [counts.get_title(), fractions.get_title()] == ["counts", "row-normalised"]
    for axis in (counts, fractions):
        assert tick_labels(axis, "x") == TICKS and tick_labels(axis, "y") == TICKS
        assert (axis.get_xlabel(), axis.get_ylabel()) == ("predicted", "true")
    assert figures[0]._suptitle.get_text() == "fer2013"


def test_confusion_pair_without_title_has_no_suptitle_and_is_shorter(tmp_path, figures):
    raw, normalised = confusion()
    titled = png_size(plots.confusion_pair(raw, normalised, tmp_path / "titled.png", "fer2013"))
    untitled = png_size(plots.confusion_pair(raw, normalised, tmp_path / "untitled.png"))
    assert figures[1]._suptitle is None
    assert untitled[1] < titled[1]


def test_a_plot_replaces_an_existing_file(tmp_path):
    path = tmp_path / "confusion_matrix.png"
    path.write_bytes(b"stale")
    plots.confusion_pair(*confusion(), path)
    assert png_size(path)[0] > 0


def test_per_class_bars_in_percent_with_default_and_given_title(tmp_path, figures):
    per_class = pd.DataFrame({"class": CLASSES, "accuracy": [0.8, 0.55, 1.0]})
    path = tmp_path / "per_class_accuracy.png"
    assert_written(path, plots.per_class_bars(per_class, path), (6.5, 3.5))
    axis = figures[0].axes[0]
    assert [p.get_height() for p in axis.patches] == pytest.approx([80, 55, 100])
    assert tick_labels(axis, "x") == TICKS
    assert axis.get_ylim() == (0, 100) and axis.get_ylabel() == "accuracy (%)"
    assert axis.get_title() == "single-class accuracy"
    plots.per_class_bars(per_class, tmp_path / "titled.png", "jaffe")
    assert figures[1].axes[0].get_title() == "jaffe"


def test_learning_curves_plot_train_and_validation_per_fold_against_epochs_from_1(tmp_path, figures):
    path = tmp_path / "learning_curves.png"
    assert_written(path, plots.learning_curves({"fold0": history(), "fold1": history(4)}, path), (11, 4))
    accuracy, loss = figures[0].axes
    for axis, metric in ((accuracy, "accuracy"), (loss, "loss")):
        lines = {line.get_label(): line for line in axis.get_lines()}
        assert sorted(lines) == ["fold0 train", "fold0 val", "fold1 train", "fold1 val"]
        np.testing.assert_array_equal(lines["fold1 train"].get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(lines["fold0 val"].get_ydata(), history()[f"val_{metric}"])
        assert lines["fold0 val"].get_linestyle() == "--" and lines["fold0 train"].get_linestyle() == "-"
        assert (axis.get_xlabel(), axis.get_ylabel()) == ("epoch", metric)
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == list(
        line.get_label() for line in accuracy.get_lines())


def test_learning_curves_leave_out_missing_metrics_and_crowded_legends(tmp_path, figures):
    plots.learning_curves({"fold0": history(validation=False)}, tmp_path / "train_only.png")
    accuracy, loss = figures[0].axes
    assert [line.get_label() for line in accuracy.get_lines()] == ["fold0 train"]
    assert [line.get_label() for line in loss.get_lines()] == ["fold0 train"]

    plots.learning_curves({"fold0": history(metrics=("loss",))}, tmp_path / "loss_only.png")
    accuracy, loss = figures[1].axes
    assert not accuracy.get_lines() and accuracy.get_legend() is None  # nothing to label
    assert len(loss.get_lines()) == 2

    plots.learning_curves({f"fold{i}": history() for i in range(5)}, tmp_path / "five_folds.png")
    assert len(figures[2].axes[0].get_lines()) == 10 and figures[2].axes[0].get_legend() is None
    plots.learning_curves({f"fold{i}": history() for i in range(4)}, tmp_path / "four_folds.png")
    assert len(figures[3].axes[0].get_legend().get_texts()) == 8


def test_folds_boxplot_shows_every_fold_in_percent_and_widens_with_test_sets(tmp_path, figures):
    one = pd.DataFrame({"test_set": ["fer2013"] * 3, "fold": [0, 1, 2], "accuracy": [0.5, 0.6, 0.7]})
    path = tmp_path / "folds_boxplot.png"
    narrow = assert_written(path, plots.folds_boxplot(one, path), (4, 4))
    points = np.concatenate([c.get_offsets()[:, 1] for c in figures[0].axes[0].collections])
    assert sorted(points) == pytest.approx([50, 60, 70])
    assert figures[0].axes[0].get_ylabel() == "fold accuracy (%)"

    four = pd.DataFrame({"test_set": list("abcd") * 3, "fold": np.repeat([0, 1, 2], 4),
                         "accuracy": np.linspace(0.4, 0.9, 12)})
    wide = assert_written(path, plots.folds_boxplot(four, path), (8, 4))
    assert tick_labels(figures[1].axes[0], "x") == list("abcd")
    assert wide[0] > 1.5 * narrow[0]


@pytest.mark.parametrize("channels", [1, 3])
def test_probability_bars_show_each_image_with_its_probabilities_and_the_prediction_in_green(tmp_path, figures,
                                                                                             channels):
    rng = np.random.default_rng(0)
    images = [rng.uniform(0, 255, (24, 24, channels)).astype(np.float32) for _ in range(2)]
    frame = pd.DataFrame({"true": ["happiness", "neutral"], "predicted": ["happiness", "sadness"],
                          "prob_happiness": [0.7, 0.1], "prob_sadness": [0.2, 0.6], "prob_neutral": [0.1, 0.3]})
    path = tmp_path / "emotion_analysis.png"
    assert_written(path, plots.probability_bars(images, frame, CLASSES, path), (7, 1.8 * 2))
    axes = figures[0].axes
    assert len(axes) == 4
    for row, image in enumerate(images):
        picture, bars = axes[2 * row], axes[2 * row + 1]
        shown = picture.get_images()[0]
        np.testing.assert_array_equal(shown.get_array(), image.astype(np.uint8).squeeze())
        assert (shown.get_cmap().name == "gray") == (channels == 1)
        assert picture.get_title() == ["true: HA", "true: NE"][row]
        assert [p.get_width() for p in bars.patches] == pytest.approx(frame.loc[row, [f"prob_{c}" for c in CLASSES]])
        colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in bars.patches]
        predicted = CLASSES.index(frame.loc[row, "predicted"])
        assert colours[predicted] == "#55a868" and colours.count("#55a868") == 1
        assert bars.get_xlim() == (0, 1) and tick_labels(bars, "y") == TICKS


def test_probability_bars_with_one_image(tmp_path, figures):
    frame = pd.DataFrame({"true": ["sadness"], "predicted": ["neutral"], "prob_happiness": [0.1],
                          "prob_sadness": [0.3], "prob_neutral": [0.6]})
    path = tmp_path / "one.png"
    assert_written(path, plots.probability_bars([np.zeros((8, 8, 1), np.float32)], frame, CLASSES, path), (7, 1.8))
    assert len(figures[0].axes) == 2


def is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_class_grids_are_written(tmp_path):
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (3, 16, 16, 1), dtype=np.uint8)
    maps = rng.random((3, 8, 8)).astype("float32")  # smaller than the images: resized for display
    means = {"anger": maps[0], "fear": maps[1]}
    assert is_png(plots.class_mean_grid(means, tmp_path / "classes.png"))
    assert is_png(plots.class_mean_grid(means, tmp_path / "over.png", mean_images={"anger": gray[0], "fear": gray[1]}))
    assert not list(tmp_path.glob(".tmp_*"))
