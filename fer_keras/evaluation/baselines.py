"""Classical baselines: scikit-learn classifiers on raw pixels, HOG and LBP features.

The KDEF paper's "a linear SVM does far worse than a CNN" claim made measurable on the
same folds as the CNN runs, written as the same predictions tables (so the same report).

* Features (computed once per image, no fitting, so no leakage across folds) work on the
  grayscale image (RGB is converted with the ITU-R 601 weights, as OpenCV does):
  ``pixels`` (flattened, 0..1, images larger than 48 px shrunk to 48 px first: on 5,040
  synthetic 128 px faces LinearSVC took 595 s per fit on all 16,384 pixels and 37 s at
  48x48, with accuracy 0.46 vs 0.51), ``hog`` (skimage HOG on a fixed grid of cells, so the
  length does not depend on the image size), ``lbp`` (uniform LBP codes, one normalised
  histogram per cell of a grid, concatenated).
* Classifiers, each ``make_pipeline(StandardScaler(), clf)``: ``svm`` (LinearSVC, the
  KDEF paper's baseline), ``logreg`` (multinomial LogisticRegression), ``knn`` (5 nearest
  neighbours).
* Both linear models use C=0.01, not scikit-learn's default C=1: on standardised pixel/HOG
  features C=1 needs up to 1,000 solver iterations (minutes, often unconverged) while C=0.01
  converges in under 10 and scored as well or better on synthetic faces (HOG + LinearSVC 0.845
  vs 0.830). C is not tuned per dataset. LinearSVC solves the primal (``dual=False``): under 10
  iterations on every feature, where the dual solver hit its 1,000-iteration cap on pixels.
* Fits run with BLAS limited to one thread: the problems are small, and multi-threaded
  OpenBLAS on a busy machine spin-waits (logistic regression on pixels: 33 s vs 1.5 s).
* LinearSVC has no ``predict_proba``. We use the softmax of its decision values rather than
  ``CalibratedClassifierCV``: the arg-max (so the accuracy) is exactly LinearSVC's, it costs
  one fit instead of one per calibration fold, and it works with classes of one or two
  training images, where calibration's inner CV fails. The probabilities are uncalibrated
  (only the report's probability bars and ensembles use them).
* Models train on a fold's ``train`` part only (the CNN's validation part just picks its
  epochs) and are tested on its ``test`` part, or on ``val`` when a split has no test part,
  the same rule as the experiment runner.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import cv2
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from fer_keras.data.load import LoadedData
from fer_keras.data.splits import TEST, TRAIN, VAL
from fer_keras.errors import BaselineError
from fer_keras.evaluation.metrics import fold_accuracies, mean_sd
from fer_keras.evaluation.predictions import predictions_frame

#: ITU-R 601 luma weights (what ``cv2.COLOR_RGB2GRAY`` uses).
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
#: Longest side of the ``pixels`` feature: bigger images are shrunk to it (see the module docstring).
PIXELS_SIZE = 48
#: Images per joblib task when features are extracted in parallel.
CHUNK = 256


# --------------------------------------------------------------------------- features


def grayscale(images: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` uint8 grayscale of ``(N, H, W)``, ``(N, H, W, 1)`` or ``(N, H, W, 3)`` images."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise BaselineError(f"baseline features need a non-empty (N, H, W[, 1|3]) image array, got shape {images.shape}")
    if images.shape[-1] == 1:
        return np.clip(np.rint(images[..., 0]), 0, 255).astype(np.uint8) if images.dtype != np.uint8 else images[..., 0]
    gray = np.tensordot(images.astype(np.float32, copy=False), GRAY_WEIGHTS, axes=([-1], [0]))
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def pixel_features(images: np.ndarray, size: int | None = PIXELS_SIZE) -> np.ndarray:
    """Grayscale pixels, flattened, scaled to 0..1: ``(N, h*w)`` float32.

    Images whose longer side exceeds ``size`` are first shrunk to it (``cv2.INTER_AREA``, aspect
    kept); ``size=None`` keeps every pixel.
    """
    gray = grayscale(images)
    height, width = gray.shape[1:]
    if size is not None and max(height, width) > size:
        scale = size / max(height, width)
        shape = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = np.stack([cv2.resize(image, shape, interpolation=cv2.INTER_AREA) for image in gray])
    return gray.reshape(len(gray), -1).astype(np.float32) / 255.0


def hog_features(images: np.ndarray, orientations: int = 9, cells: int = 8, block: int = 2, n_jobs: int = 1) -> np.ndarray:
    """HOG of each grayscale image on a ``cells`` x ``cells`` grid (cell = side // cells px), L2-Hys blocks.

    Length ``(cells - block + 1)**2 * block**2 * orientations`` (1,764 by default) at any size.
    """
    gray = grayscale(images)
    height, width = gray.shape[1:]
    cell = (height // cells, width // cells)
    if min(cell) < 2:
        raise BaselineError(f"hog: {height}x{width} images are too small for a {cells}x{cells} cell grid; lower cells")

    def run(chunk: np.ndarray) -> np.ndarray:
        from skimage.feature import hog

        return np.stack([
            hog(image, orientations=orientations, pixels_per_cell=cell, cells_per_block=(block, block),
                block_norm="L2-Hys", feature_vector=True)
            for image in chunk
        ]).astype(np.float32)

    return _chunked(run, gray, n_jobs)


def lbp_features(images: np.ndarray, points: int = 8, radius: float = 1, cells: int = 8, n_jobs: int = 1) -> np.ndarray:
    """Uniform LBP histograms (``points + 2`` bins) of each cell of a ``cells`` x ``cells`` grid, concatenated.

    Each cell's histogram is normalised to sum to 1; length ``cells**2 * (points + 2)`` (640 by default).
    Pixels past the last whole cell (when the side is not a multiple of ``cells``) are ignored.
    """
    gray = grayscale(images)
    height, width = gray.shape[1:]
    cell_h, cell_w = height // cells, width // cells
    if min(cell_h, cell_w) < 2:
        raise BaselineError(f"lbp: {height}x{width} images are too small for a {cells}x{cells} cell grid; lower cells")
    bins = points + 2
    rows = np.minimum(np.arange(cells * cell_h) // cell_h, cells - 1)
    cols = np.minimum(np.arange(cells * cell_w) // cell_w, cells - 1)
    cell_of_pixel = (rows[:, None] * cells + cols[None, :]).ravel()

    def run(chunk: np.ndarray) -> np.ndarray:
        from skimage.feature import local_binary_pattern

        codes = np.stack([local_binary_pattern(image, points, radius, method="uniform") for image in chunk])
        codes = codes[:, : cells * cell_h, : cells * cell_w].reshape(len(chunk), -1).astype(np.int64)
        flat = (np.arange(len(chunk))[:, None] * cells * cells + cell_of_pixel[None, :]) * bins + codes
        counts = np.bincount(flat.ravel(), minlength=len(chunk) * cells * cells * bins)
        counts = counts.reshape(len(chunk), cells * cells, bins).astype(np.float32)
        return (counts / (cell_h * cell_w)).reshape(len(chunk), -1)

    return _chunked(run, gray, n_jobs)


def _chunked(run: Callable[[np.ndarray], np.ndarray], gray: np.ndarray, n_jobs: int) -> np.ndarray:
    """``run`` over chunks of ``gray``, in parallel when ``n_jobs != 1``; rows in input order."""
    chunks = [gray[i : i + CHUNK] for i in range(0, len(gray), CHUNK)]
    if n_jobs == 1 or len(chunks) == 1:
        return np.concatenate([run(chunk) for chunk in chunks])
    return np.concatenate(Parallel(n_jobs=n_jobs)(delayed(run)(chunk) for chunk in chunks))


#: Feature name → function(images, **options) → (N, D) float32.
FEATURES: dict[str, Callable[..., np.ndarray]] = {
    "pixels": pixel_features,
    "hog": hog_features,
    "lbp": lbp_features,
}


def extract_features(images: np.ndarray, kind: str, **options) -> np.ndarray:
    """Feature matrix ``(N, D)`` of ``images`` for the feature named ``kind`` (see :data:`FEATURES`)."""
    if kind not in FEATURES:
        raise BaselineError(f"unknown baseline feature {kind!r}; expected one of {', '.join(FEATURES)}")
    return FEATURES[kind](images, **options)


# ----------------------------------------------------------------------- classifiers


class SoftmaxLinearSVC(LinearSVC):
    """LinearSVC whose ``predict_proba`` is the softmax of its decision values (arg-max = ``predict``)."""

    def predict_proba(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:  # two classes: one signed margin for classes_[1]
            scores = np.stack([-scores, scores], axis=1) / 2
        return softmax(scores, axis=1)


def linear_svm(seed: int = 0) -> Pipeline:
    """Standardised features → LinearSVC (squared hinge, one-vs-rest, C=0.01, primal); softmax of the margins."""
    return make_pipeline(StandardScaler(), SoftmaxLinearSVC(C=0.01, dual=False, max_iter=1000, random_state=seed))


def logistic_regression(seed: int = 0) -> Pipeline:
    """Standardised features → multinomial logistic regression (L2, C=0.01, lbfgs)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000, random_state=seed))


def nearest_neighbours(seed: int = 0, neighbours: int = 5) -> Pipeline:
    """Standardised features → k-nearest neighbours (k=5, Euclidean, uniform votes); ``seed`` is unused."""
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=neighbours))


#: Classifier name → factory(seed) → unfitted sklearn pipeline with ``predict_proba``.
CLASSIFIERS: dict[str, Callable[[int], Pipeline]] = {
    "svm": linear_svm,
    "logreg": logistic_regression,
    "knn": nearest_neighbours,
}


def make_classifier(name: str, seed: int = 0) -> Pipeline:
    """The unfitted pipeline for the classifier named ``name`` (see :data:`CLASSIFIERS`)."""
    if name not in CLASSIFIERS:
        raise BaselineError(f"unknown baseline classifier {name!r}; expected one of {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name](seed)


def fit_predict(
    features: np.ndarray,
    label_ids: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    classifier: str,
    seed: int = 0,
    n_classes: int | None = None,
) -> np.ndarray:
    """Fit ``classifier`` on ``features[train_idx]``; class probabilities ``(len(test_idx), n_classes)``.

    Classes absent from the training part get probability 0; with a single training class
    every test sample gets that class with probability 1.
    """
    label_ids = np.asarray(label_ids)
    n_classes = int(label_ids.max()) + 1 if n_classes is None else n_classes
    train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
    if len(train_idx) == 0:
        raise BaselineError("a baseline needs at least one training sample; the fold's train part is empty")
    model = make_classifier(classifier, seed)
    present = np.unique(label_ids[train_idx])
    probabilities = np.zeros((len(test_idx), n_classes), dtype=np.float64)
    if len(present) == 1:
        probabilities[:, present[0]] = 1.0
        return probabilities
    if classifier == "knn":
        model.set_params(kneighborsclassifier__n_neighbors=min(model[-1].n_neighbors, len(train_idx)))
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(features[train_idx], label_ids[train_idx])
        if len(test_idx):
            probabilities[:, model.classes_] = model.predict_proba(features[test_idx])
    return probabilities


# -------------------------------------------------------------------------- runner


class BaselineResults(NamedTuple):
    """What :func:`run_baselines` returns: the predictions tables and one summary row per combination."""

    predictions: pd.DataFrame
    summary: pd.DataFrame


def baseline_method(feature: str, classifier: str) -> str:
    """The ``method`` name field of a baseline's predictions, e.g. ``"svm+hog"``."""
    return f"{classifier}+{feature}"


def run_baselines(
    loaded: LoadedData,
    folds: list[pd.Series],
    combos: list[tuple[str, str]],
    seed: int = 0,
    n_jobs: int = 1,
) -> BaselineResults:
    """Every ``(feature, classifier)`` of ``combos`` on every fold; predictions tables plus a summary.

    Each fold trains on its ``train`` part and predicts its ``test`` part (``val`` when there is no
    test part, ``test_set`` ``"<dataset> (val)"``), with seed ``seed + fold`` as the CNN runs do.
    ``predictions`` has the columns of :func:`~fer_keras.evaluation.predictions.predictions_frame`,
    ``method`` naming the combination (:func:`baseline_method`); write ``predictions[predictions.fold == k]``
    as a run's ``predictions_fold{k}.csv`` and the report follows. ``summary``: feature, classifier,
    test_set, method, folds, accuracy_mean, accuracy_sd, accuracy ("mean ± SD", %), feature_seconds
    (once, all images), fit_seconds (fit + predict, mean per fold).
    """
    combos = list(dict.fromkeys(combos))
    if not combos or not folds:
        raise BaselineError("run_baselines needs at least one (feature, classifier) combination and one fold")
    for feature, classifier in combos:
        if feature not in FEATURES:
            raise BaselineError(f"unknown baseline feature {feature!r}; expected one of {', '.join(FEATURES)}")
        if classifier not in CLASSIFIERS:
            raise BaselineError(f"unknown baseline classifier {classifier!r}; expected one of {', '.join(CLASSIFIERS)}")
    dataset = " + ".join(pd.unique(loaded.table["dataset"].astype(str)))
    n_classes = len(loaded.classes)
    features: dict[str, np.ndarray] = {}
    feature_seconds: dict[str, float] = {}
    frames, rows = [], []
    for feature, classifier in combos:
        if feature not in features:
            start = time.perf_counter()
            options = {} if feature == "pixels" else {"n_jobs": n_jobs}
            features[feature] = extract_features(loaded.images, feature, **options)
            feature_seconds[feature] = time.perf_counter() - start
        fit_seconds = []
        for k, parts in enumerate(folds):
            parts = parts.to_numpy()
            train_idx = np.flatnonzero(parts == TRAIN)
            eval_idx, evaluated = (np.flatnonzero(parts == TEST), dataset) if (parts == TEST).any() else (
                np.flatnonzero(parts == VAL), f"{dataset} (val)")
            start = time.perf_counter()
            probabilities = fit_predict(features[feature], loaded.label_ids, train_idx, eval_idx, classifier,
                                        seed + k, n_classes)
            fit_seconds.append(time.perf_counter() - start)
            method = baseline_method(feature, classifier)
            frames.append(predictions_frame(loaded.table, eval_idx, loaded.label_ids[eval_idx], probabilities,
                                            loaded.classes, k, evaluated, method=method))
        rows.append({"feature": feature, "classifier": classifier, "test_set": evaluated, "method": method,
                     "feature_seconds": feature_seconds[feature], "fit_seconds": float(np.mean(fit_seconds))})
    predictions = pd.concat(frames, ignore_index=True)
    return BaselineResults(predictions, _summary(predictions, rows))


def _summary(predictions: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """Accuracy mean ± SD over folds beside each combination's timings."""
    out = []
    for row in rows:
        mine = (predictions["test_set"] == row["test_set"]) & (predictions["method"] == row["method"])
        stats = mean_sd(fold_accuracies(predictions[mine])["accuracy"])
        out.append({
            "feature": row["feature"], "classifier": row["classifier"], "test_set": row["test_set"],
            "method": row["method"],
            "folds": stats["n"], "accuracy_mean": stats["mean"], "accuracy_sd": stats["sd"],
            "accuracy": f"{100 * stats['mean']:.2f} ± {100 * stats['sd']:.2f}",
            "feature_seconds": round(row["feature_seconds"], 3), "fit_seconds": round(row["fit_seconds"], 3),
        })
    return pd.DataFrame(out)
