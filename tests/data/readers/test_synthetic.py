"""Tests for fer_keras.data.readers.synthetic: seeded procedural faces, the reader, class folders."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, read_dataset
from fer_keras.data.readers.synthetic import draw_face, make_synthetic_faces, write_class_folders
from fer_keras.labels import CLASSES_7


def small(**options):
    """A tiny table; every test uses 48 px unless it checks sizes."""
    return make_synthetic_faces(**{"n_subjects": 2, "images_per_class": 1, "image_size": 48, **options})


def test_same_seed_gives_identical_images_and_other_seeds_differ():
    first, again, other = small(seed=3), small(seed=3), small(seed=4)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first["image"], again["image"]))
    assert not any(np.array_equal(a, b) for a, b in zip(first["image"], other["image"]))


def test_images_of_one_class_are_not_identical():
    table = small(n_subjects=1, images_per_class=3, classes=["happiness"])
    a, b, c = table["image"]
    assert not np.array_equal(a, b) and not np.array_equal(b, c)


def test_table_is_balanced_over_classes_and_subjects():
    table = make_synthetic_faces(n_subjects=3, images_per_class=2, image_size=48, seed=1)
    assert list(table.columns) == ["path", "image", "label", "subject", "dataset"]
    assert len(table) == 3 * 2 * 7
    assert table["label"].value_counts().to_dict() == {c: 6 for c in CLASSES_7}
    assert sorted(table["subject"].unique()) == ["syn_000", "syn_001", "syn_002"]
    assert (table.groupby(["subject", "label"]).size() == 2).all()
    assert table["path"].isna().all() and (table["dataset"] == "synthetic").all()


@pytest.mark.parametrize("size", [48, 256])
@pytest.mark.parametrize("mode, channels", [("grayscale", 1), ("rgb", 3)])
def test_shapes_and_dtype(size, mode, channels):
    table = small(n_subjects=1, image_size=size, color_mode=mode, classes=["surprise", "neutral"])
    for image in table["image"]:
        assert image.shape == (size, size, channels) and image.dtype == np.uint8
        assert image.std() > 10  # a drawn face, not a flat image
    if mode == "rgb":
        image = table["image"][0].astype(int)
        assert np.abs(image[..., 0] - image[..., 2]).mean() > 1  # real colour, not grey copied thrice


def test_classes_restriction_keeps_the_same_images():
    full = small(seed=5)
    part = small(seed=5, classes=["sadness", "anger"])
    assert set(part["label"]) == {"sadness", "anger"} and len(part) == 4
    for _, row in part.iterrows():
        match = full[(full["label"] == row["label"]) & (full["subject"] == row["subject"])]
        assert np.array_equal(match["image"].iloc[0], row["image"])


@pytest.mark.parametrize("bad, message", [
    ({"classes": ["happy"]}, "happy"),
    ({"image_size": 300}, "image_size"),
    ({"image_size": 32}, "image_size"),
    ({"color_mode": "bgr"}, "color_mode"),
    ({"n_subjects": 0}, "n_subjects"),
])
def test_bad_arguments_raise_dataset_error(bad, message):
    with pytest.raises(DatasetError, match=message):
        small(**bad)


def test_reader_through_the_registry():
    result = read_dataset("synthetic", None, n_subjects=2, images_per_class=1, image_size=48, seed=2)
    assert isinstance(result, DatasetTable)
    assert len(result.table) == 14 and result.excluded.empty
    assert np.array_equal(result.table["image"][3], small(seed=2)["image"][3])


def test_reader_rejects_unknown_option_with_allowed_list():
    with pytest.raises(DatasetError, match=r"unknown option size; allowed: n_subjects, .*seed") as error:
        read_dataset("synthetic", None, size=48)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("mode", ["grayscale", "rgb"])
def test_write_class_folders_round_trips(tmp_path, mode):
    table = small(color_mode=mode, classes=["fear", "disgust"], images_per_class=2)
    written = write_class_folders(table, tmp_path)
    assert "image" not in written.columns and len(written) == len(table)
    assert (tmp_path / "fear" / "syn_000_0.png").is_file() and (tmp_path / "disgust" / "syn_001_1.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disgust", "fear"]
    for path, image in zip(written["path"], table["image"]):
        if mode == "grayscale":
            back = cv2.imread(path, cv2.IMREAD_GRAYSCALE)[..., None]
        else:
            back = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert np.array_equal(back, image)


def test_draw_face_is_seeded_and_accepts_a_generator():
    a = draw_face(7, "fear", 64, "rgb")
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, draw_face(np.random.default_rng(7), "fear", 64, "rgb"))
    with pytest.raises(DatasetError, match="unknown class"):
        draw_face(7, "happy", 48, "grayscale")


def _difference_by_half(label: str, seed: int) -> tuple[float, float]:
    """Mean |label − neutral| in the upper and lower half of the same face (same seed: same person, pose, noise)."""
    neutral = draw_face(seed, "neutral", 64, "grayscale").astype(float)
    diff = np.abs(draw_face(seed, label, 64, "grayscale").astype(float) - neutral)
    return diff[:30].mean(), diff[34:].mean()


@pytest.mark.parametrize("seed", range(4))
def test_expressions_change_the_right_parts_of_the_face(seed):
    happy_upper, happy_lower = _difference_by_half("happiness", seed)
    angry_upper, angry_lower = _difference_by_half("anger", seed)
    assert happy_lower > happy_upper and happy_lower > 2 * angry_lower  # a smile is mostly mouth and cheeks
    assert angry_upper > 4 * angry_lower and angry_upper > 2 * happy_upper  # anger: brows and eyes
    for label in CLASSES_7[:-1]:
        assert sum(_difference_by_half(label, seed)) > 0.5  # every expression differs from neutral


def _features(table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pixels = np.stack(list(table["image"])).reshape(len(table), -1).astype(np.float32)
    labels = np.array([CLASSES_7.index(label) for label in table["label"]])
    return pixels, labels, table["subject"].to_numpy()


def test_linear_model_on_raw_pixels_is_far_from_perfect_but_faces_are_learnable():
    """Identity variation defeats a pixel-linear model; HOG features (shape, not position) do better."""
    from skimage.feature import hog
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    table = make_synthetic_faces(n_subjects=16, images_per_class=3, image_size=48, seed=11)
    pixels, labels, subjects = _features(table)
    test = np.isin(subjects, ["syn_000", "syn_001", "syn_002", "syn_003"])

    def accuracy(features):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=300))
        with threadpool_limits(1):  # BLAS threads fighting for 2 busy cores make lbfgs 10x slower
            model.fit(features[~test], labels[~test])
        return model.score(features[test], labels[test])

    linear = accuracy(pixels)
    shaped = accuracy(np.stack([hog(image[..., 0], pixels_per_cell=(6, 6)) for image in table["image"]]))
    assert linear < 0.6  # measured 0.25-0.35 on 12 training subjects
    assert shaped > max(linear + 0.2, 0.6)  # measured 0.75-0.79
