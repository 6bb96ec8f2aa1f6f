"""fer_keras/evaluation/baselines.py: classical features, classifiers and the fold runner."""

import numpy as np
import pandas as pd
import pytest

from fer_keras.data.load import LoadedData
from fer_keras.data.splits import TEST, TRAIN, VAL
from fer_keras.data.readers.synthetic import make_synthetic_faces
from fer_keras.errors import UserError
from fer_keras.errors import BaselineError
from fer_keras.evaluation.baselines import CLASSIFIERS, FEATURES, extract_features, fit_predict, grayscale, run_baselines
from fer_keras.labels import PROB_PREFIX
from fer_keras.labels import CLASSES_7
from fer_keras.reports.names import display_names, displayed


def random_images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def faces():
    """Synthetic faces, 7 classes, 48x48 grayscale: 16 subjects x 2 images per class (224 images)."""
    table = make_synthetic_faces(n_subjects=16, images_per_class=2, image_size=48, seed=3)
    images = np.stack(table["image"].to_numpy())
    label_ids = table["label"].map({c: i for i, c in enumerate(CLASSES_7)}).to_numpy(np.int32)
    return table.drop(columns=["image"]), images, label_ids


@pytest.mark.parametrize("shape", [(5, 48, 48, 1), (4, 64, 64, 3)])
def test_feature_shapes_do_not_depend_on_size_for_hog_and_lbp(shape):
    images = random_images(shape)
    n, h, w = shape[:3]
    assert extract_features(images, "pixels").shape == (n, 48 * 48)  # larger images shrunk to 48 px
    assert extract_features(images, "pixels", size=None).shape == (n, h * w)
    assert extract_features(images, "hog").shape == (n, 7 * 7 * 4 * 9)
    assert extract_features(images, "lbp").shape == (n, 8 * 8 * 10)
    for kind in FEATURES:
        features = extract_features(images, kind)
        assert features.dtype == np.float32 and np.isfinite(features).all()


def test_pixels_are_grayscale_scaled_to_unit_range():
    rgb = np.zeros((2, 48, 48, 3), np.uint8)
    rgb[0, ..., 1] = 255  # pure green → luma 0.587
    rgb[1] = 255
    pixels = extract_features(rgb, "pixels")
    assert pixels[0] == pytest.approx(np.full(48 * 48, round(0.587 * 255) / 255))
    assert pixels[1] == pytest.approx(np.ones(48 * 48))
    gray = random_images((3, 48, 48))
    assert np.array_equal(grayscale(gray[..., None]), gray) and np.array_equal(grayscale(gray), gray)


def test_pixels_shrink_keeps_the_aspect_and_the_mean():
    images = random_images((2, 96, 64, 1), seed=5)
    pixels = extract_features(images, "pixels")
    assert pixels.shape == (2, 48 * 32)
    assert pixels.mean() == pytest.approx(images.mean() / 255, abs=2e-3)  # INTER_AREA averages blocks
    assert extract_features(images[:, :40, :40], "pixels").shape == (2, 40 * 40)  # never enlarged


def test_rgb_of_a_gray_image_gives_the_gray_image_features():
    gray = random_images((3, 48, 48, 1), seed=1)
    rgb = np.repeat(gray, 3, axis=-1)
    for kind in FEATURES:
        assert np.allclose(extract_features(rgb, kind), extract_features(gray, kind), atol=1e-6), kind


def test_hog_and_lbp_are_deterministic_and_chunk_order_safe(monkeypatch):
    images = random_images((7, 48, 48, 1), seed=2)
    for kind in ("hog", "lbp"):
        first = extract_features(images, kind)
        assert np.array_equal(first, extract_features(images, kind))
        monkeypatch.setattr("fer_keras.evaluation.baselines.CHUNK", 3)  # several chunks, two workers
        assert np.array_equal(first, extract_features(images, kind, n_jobs=2))
        monkeypatch.undo()
        assert np.array_equal(first[4], extract_features(images[4:5], kind)[0])  # per-image, no batch effects


def test_lbp_cells_are_normalised_histograms_of_uniform_codes():
    flat = np.full((1, 48, 48, 1), 128, np.uint8)  # every neighbour equal → one code everywhere
    lbp = extract_features(flat, "lbp").reshape(8, 8, 10)
    assert np.allclose(lbp.sum(axis=2), 1.0)
    inner = lbp[1:-1, 1:-1].reshape(36, 10)  # cells away from the image border (skimage pads with 0 there)
    assert (inner.max(axis=1) == 1.0).all() and len(set(inner.argmax(axis=1))) == 1
    assert (lbp[0, 0].max() < 1.0)  # the corner cell sees the border codes too
    varied = extract_features(random_images((2, 50, 50, 1), seed=4), "lbp").reshape(2, 64, 10)
    assert np.allclose(varied.sum(axis=2), 1.0)  # 50 = 8 cells x 6 px + 2 px ignored


def test_bad_inputs_raise_one_line_errors():
    images = random_images((2, 48, 48, 1))
    with pytest.raises(BaselineError, match="unknown baseline feature 'sift'"):
        extract_features(images, "sift")
    with pytest.raises(BaselineError, match="unknown baseline classifier 'rf'"):
        fit_predict(np.zeros((4, 2)), np.array([0, 1, 0, 1]), [0, 1], [2, 3], "rf")
    with pytest.raises(BaselineError, match=r"\(N, H, W\[, 1\|3\]\)"):
        extract_features(np.zeros((2, 48, 48, 2), np.uint8), "pixels")
    with pytest.raises(BaselineError, match="too small"):
        extract_features(random_images((1, 12, 12, 1)), "hog")
    assert issubclass(BaselineError, UserError)


@pytest.mark.parametrize("classifier", list(CLASSIFIERS))
def test_probabilities_cover_every_class_even_when_one_is_absent_from_train(classifier, faces):
    _, images, label_ids = faces
    features = extract_features(images, "hog")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(label_ids))
    train = order[:150][label_ids[order[:150]] != 2]  # class 2 (fear) never trained on
    test = order[150:]
    probabilities = fit_predict(features, label_ids, train, test, classifier, seed=0, n_classes=7)
    assert probabilities.shape == (len(test), 7)
    assert np.allclose(probabilities.sum(axis=1), 1.0) and (probabilities >= 0).all()
    assert (probabilities[:, 2] == 0).all()
    assert not np.allclose(probabilities, probabilities[0])  # depends on the input


def test_single_training_class_and_binary_problems():
    x = np.random.default_rng(0).normal(size=(20, 5))
    y = np.array([0] * 10 + [3] * 10)
    one = fit_predict(x, y, np.arange(10), np.arange(10, 20), "svm", n_classes=5)
    assert (one[:, 0] == 1).all() and one.sum() == 10
    x[10:] += 3
    for classifier in CLASSIFIERS:
        two = fit_predict(x, y, np.r_[0:8, 10:18], np.r_[8:10, 18:20], classifier, n_classes=5)
        assert two.shape == (4, 5) and np.allclose(two.sum(axis=1), 1)
        assert list(two.argmax(axis=1)) == [0, 0, 3, 3], classifier


def test_svm_probabilities_agree_with_its_predictions(faces):
    from fer_keras.evaluation.baselines import make_classifier

    _, images, label_ids = faces
    features = extract_features(images, "lbp")
    model = make_classifier("svm", seed=0).fit(features[:150], label_ids[:150])
    assert np.array_equal(model.predict_proba(features[150:]).argmax(axis=1), model.predict(features[150:]))


def test_hog_svm_beats_chance_on_unseen_subjects(faces):
    table, images, label_ids = faces
    unseen = table["subject"].isin(sorted(table["subject"].unique())[:4]).to_numpy()  # 4 of 16 subjects held out
    train, test = np.flatnonzero(~unseen), np.flatnonzero(unseen)
    probabilities = fit_predict(extract_features(images, "hog"), label_ids, train, test, "svm", 0, 7)
    accuracy = (probabilities.argmax(axis=1) == label_ids[test]).mean()
    assert accuracy > 1 / 7 + 0.2, accuracy  # 0.57 measured (raw pixels: 0.21); chance 0.14


def test_run_baselines_predicts_every_test_sample_of_every_fold(faces):
    table, images, label_ids = faces
    subjects = table["subject"].to_numpy()
    names = sorted(set(subjects))
    folds = []
    for k in range(2):
        parts = pd.Series(TRAIN, index=table.index, dtype=object)
        parts[np.isin(subjects, names[k * 4 : k * 4 + 4])] = TEST
        parts[np.isin(subjects, names[8 + k : 9 + k])] = VAL
        folds.append(parts)
    loaded = LoadedData(table, list(CLASSES_7), label_ids, images, pd.DataFrame(), pd.DataFrame())
    combos = [("lbp", "knn"), ("hog", "logreg")]
    raw, summary = run_baselines(loaded, folds, combos, seed=1)
    predictions = displayed(raw)  # test_set: the display name, as the report shows it

    expected = ["fold", "test_set", "key", "subject", "true", "predicted", "correct"]
    assert list(predictions.columns) == expected + [PROB_PREFIX + c for c in CLASSES_7]
    assert set(predictions["test_set"]) == {"synthetic · knn+lbp", "synthetic · logreg+hog"}
    for k, parts in enumerate(folds):
        for name, rows in predictions[predictions["fold"] == k].groupby("test_set"):
            test_keys = set(table.index[(parts == TEST).to_numpy()].map(lambda i: f"synthetic:{i}"))
            assert set(rows["key"]) == test_keys and len(rows) == len(test_keys) == 56, name
    assert np.allclose(predictions.filter(like=PROB_PREFIX).sum(axis=1), 1)

    assert list(summary[["feature", "classifier"]].itertuples(index=False, name=None)) == combos
    assert (summary["folds"] == 2).all() and (summary["fit_seconds"] >= 0).all()
    for row in summary.itertuples():
        mine = (raw["test_set"] == row.test_set) & (raw["method"] == f"{row.classifier}+{row.feature}")
        per_fold = predictions[mine].groupby("fold")["correct"].mean()
        assert row.accuracy_mean == pytest.approx(per_fold.mean())
        assert row.accuracy_sd == pytest.approx(per_fold.std(ddof=1))
        assert row.accuracy == f"{100 * per_fold.mean():.2f} ± {100 * per_fold.std(ddof=1):.2f}"


def test_run_baselines_falls_back_to_validation_and_rejects_unknown_names(faces):
    table, images, label_ids = faces
    loaded = LoadedData(table, list(CLASSES_7), label_ids, images, pd.DataFrame(), pd.DataFrame())
    parts = pd.Series(TRAIN, index=table.index, dtype=object)
    parts.iloc[::5] = VAL
    predictions, summary = run_baselines(loaded, [parts], [("pixels", "knn")])
    assert set(display_names(predictions)) == {"synthetic (val) · knn+pixels"}
    assert len(predictions) == int((parts == VAL).sum())
    with pytest.raises(BaselineError, match="unknown baseline classifier 'svc'"):
        run_baselines(loaded, [parts], [("hog", "svc")])
