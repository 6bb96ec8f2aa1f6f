"""Cross-dataset accuracy, no fine-tuning: FER2013-trained models on KDEF, JAFFE and CK+48, beside ``fer``.

``python benchmarks/cross_dataset.py --model RUN_DIR[,TWIN...] [--model RUN_DIR2 ...] [--privatetest]
[--fer-python OPENCV4_VENV/bin/python] --out DIR``

- **KDEF subset** (82 straight-view 256×320 photos, one flat folder): face detection, as JAFFE.
- **JAFFE** (213 full 256×256 photos): each model's :class:`~fer_keras.inference.predictor.Predictor`
  detects the face and crops it with the run's own settings; ``fer`` uses its own Haar cascade
  (``FER(mtcnn=False)``). An image with no face found counts as wrong.
- **CK+48** (48×48 crops, 6 classes: contempt has no FER2013 class and is left out, 927
  images): no detection, the whole crop is the face (``fer``: ``face_rectangles`` = the image).
- **FER2013 PrivateTest** (``--privatetest``; 3,589 48×48 crops): no detection, as CK+48.

fer_keras predicts each set as a folder is predicted (images read and searched for faces on
``--workers`` threads, faces of 32 images per model call);
``fer`` one image at a time (its API); ms/image therefore compares folder throughput.
A model that trained on some of these sets (``train_extra``) is never scored on them: give it with
its leave-one-dataset-out twins, ``--model shipped=pretrained,RUN_NO_KDEF,RUN_NO_JAFFE,RUN_NO_CK``,
and each set is scored by the first of them that never saw it (the ``model`` column says which).
Accuracy is the arg-max over each model's seven FER2013 classes (what a user of the model
gets; neutral is a possible wrong answer on CK+48). Writes ``cross_dataset.csv`` (one row per
model × set × class), ``labels.csv`` (file name, true and predicted class per image and method:
no pixels) and ``cross_dataset.md``; needs ../shared/datasets (or ``--datasets``).
``fer`` is installed with ``pip install --no-deps fer``; without it its rows say why. ``fer`` needs
OpenCV 4's Haar cascade, which OpenCV 5 wheels (what a fresh fer_keras install gets) lack:
``--fer-python`` runs ``fer`` in another interpreter (a venv with ``opencv-python-headless<5``) while
fer_keras runs here with its fresh-install defaults. Each row gives accuracy and balanced accuracy
(mean per-class accuracy) with 95% intervals (Wilson; stratified bootstrap).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATASETS = REPO.parent / "shared" / "datasets"
#: fer's label names → fer_keras's canonical classes.
FER_LABELS = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
              "surprise": "surprise", "neutral": "neutral"}


def test_sets(datasets: Path, privatetest: bool = False) -> dict[str, tuple[pd.DataFrame, bool]]:
    """Name → (table with path and label, detect faces?)."""
    from fer_keras.data.readers.ckplus import read_ckplus
    from fer_keras.data.readers.jaffe import read_jaffe
    from fer_keras.data.readers.kdef import read_kdef

    sets = {}
    if (datasets / "KDEF_subset").is_dir():
        sets["KDEF subset (face detection)"] = (read_kdef(datasets / "KDEF_subset").table, True)
    jaffe = read_jaffe(datasets / "JAFFE").table
    ckplus = read_ckplus(datasets / "CK+48", keep_contempt=True).table
    ckplus = ckplus[ckplus["label"] != "contempt"]
    sets.update({"JAFFE (face detection)": (jaffe, True), "CK+48 (crops, 6 classes)": (ckplus, False)})
    if privatetest:
        from fer_keras.data.readers.fer2013 import read_fer2013

        fer2013 = read_fer2013(datasets / "FER2013").table
        sets["FER2013 PrivateTest (crops)"] = (fer2013[fer2013["usage"] == "test"].reset_index(drop=True), False)
    return sets


#: Test set → the dataset registry name a model must not have trained on to be scored on it.
SET_DATASETS = {"KDEF subset (face detection)": "kdef", "JAFFE (face detection)": "jaffe",
                "CK+48 (crops, 6 classes)": "ckplus"}


def trained_on(run: str) -> set[str]:
    """Registry names of the extra sets a run trained on (``train_extra`` entries with ``repeat`` > 0),
    read from the config.yaml beside its model; empty when there is none."""
    import yaml

    from fer_keras.trained import resolve_model

    path = resolve_model(run)
    config = (path if path.is_dir() else path.parent) / "config.yaml"
    if not config.is_file():
        return set()
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return {extra["dataset"] for extra in raw.get("train_extra") or [] if extra.get("repeat", 1)}


def unseen_run(runs: list[str], test_set: str) -> str | None:
    """The first of ``runs`` that never trained on ``test_set``'s dataset (leave-one-dataset-out twins)."""
    dataset = SET_DATASETS.get(test_set)
    return next((run for run in runs if dataset not in trained_on(run)), None)


def fer_keras_labels(run: str, table: pd.DataFrame, detect: bool, workers: int | None = None
                     ) -> tuple[list[str | None], float]:
    """Predicted class per image (None: no face found) and ms per image, predicted as a folder is
    (:func:`~fer_keras.inference.rows.predict_images`: read and detect on ``workers`` threads, faces
    batched into the model)."""
    from fer_keras.inference.predictor import Predictor
    from fer_keras.inference.rows import FOLDER_WORKERS, predict_images

    predictor = Predictor.load(run, detect=detect)
    start, labels = time.perf_counter(), []
    for _, _, faces, _ in predict_images(predictor, [Path(p) for p in table["path"]], workers=workers or FOLDER_WORKERS):
        labels.append(predictor.classes[int(np.argmax(faces[0].probabilities))] if faces else None)
    return labels, 1000 * (time.perf_counter() - start) / len(table)


def fer_labels(table: pd.DataFrame, detect: bool) -> tuple[list[str | None], float]:
    """The ``fer`` package's predicted class per image (its Haar cascade when ``detect``)."""
    import cv2

    from fer_keras.data.faces.detect import haar_available

    if not haar_available():
        raise ImportError(f"fer needs OpenCV's Haar cascades (cv2.CascadeClassifier), absent from OpenCV {cv2.__version__}")
    from fer.fer import FER

    detector = FER(mtcnn=False)
    start, labels = time.perf_counter(), []
    for path in table["path"]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        rectangles = None if detect else [(0, 0, image.shape[1], image.shape[0])]
        faces = detector.detect_emotions(image, face_rectangles=rectangles)
        if faces:
            face = max(faces, key=lambda f: f["box"][2] * f["box"][3])
            labels.append(FER_LABELS[max(face["emotions"], key=face["emotions"].get)])
        else:
            labels.append(None)
    return labels, 1000 * (time.perf_counter() - start) / len(table)


def fer_labels_elsewhere(python: str, table: pd.DataFrame, detect: bool) -> tuple[list[str | None], float]:
    """:func:`fer_labels` run by another interpreter ``python`` (one with OpenCV 4 and ``fer``)."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fer_keras_fer_") as scratch:
        request, answer = Path(scratch) / "paths.json", Path(scratch) / "labels.json"
        request.write_text(json.dumps({"paths": table["path"].tolist(), "detect": detect}))
        done = subprocess.run([python, __file__, "--fer-worker", str(request), str(answer)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise ImportError(f"fer under {python} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        result = json.loads(answer.read_text())
    return result["labels"], result["ms"]


def fer_worker(request: Path, answer: Path) -> int:
    """The ``--fer-worker`` side of :func:`fer_labels_elsewhere`."""
    import json

    asked = json.loads(request.read_text())
    labels, ms = fer_labels(pd.DataFrame({"path": asked["paths"]}), asked["detect"])
    answer.write_text(json.dumps({"labels": labels, "ms": ms}))
    return 0


def score(method: str, test_set: str, table: pd.DataFrame, labels: list, ms: float) -> list[dict]:
    """One overall row (accuracy and balanced accuracy with 95% intervals) and one row per class."""
    from fer_keras.evaluation.metrics import accuracy_interval, balanced_accuracy_interval

    truth = table["label"].to_numpy()
    predicted = np.array([label or "" for label in labels], dtype=object)
    found = np.array([label is not None for label in labels])
    correct = int(np.sum(predicted == truth))
    low, high = accuracy_interval(correct, len(truth))
    balanced, balanced_low, balanced_high = balanced_accuracy_interval(truth, predicted)
    rows = [{"method": method, "test_set": test_set, "class": "all", "images": len(truth),
             "faces_found": int(found.sum()), "accuracy": correct / len(truth), "ci_low": low, "ci_high": high,
             "balanced_accuracy": balanced, "balanced_ci_low": balanced_low, "balanced_ci_high": balanced_high,
             "ms_per_image": ms}]
    for name in sorted(set(truth)):
        mask = truth == name
        rows.append({"method": method, "test_set": test_set, "class": name, "images": int(mask.sum()),
                     "faces_found": int(found[mask].sum()), "accuracy": float(np.mean(predicted[mask] == name)),
                     "ms_per_image": ms})
    return rows


def markdown(frame: pd.DataFrame) -> str:
    """Overall table, then per-class accuracy (%) with one column per method."""
    overall = frame[frame["class"] == "all"].copy()

    def percent(value, low, high):
        return f"{100 * value:.1f} ({100 * low:.1f}–{100 * high:.1f})" if pd.notna(low) else f"{100 * value:.1f}"

    overall["accuracy % (95% CI)"] = [percent(*v) for v in overall[["accuracy", "ci_low", "ci_high"]].to_numpy()]
    overall["balanced % (95% CI)"] = [percent(*v) for v in
                                      overall[["balanced_accuracy", "balanced_ci_low", "balanced_ci_high"]].to_numpy()]
    overall["ms/image"] = overall["ms_per_image"].round(1)
    columns = ["test_set", "method", "images", "faces_found", "accuracy % (95% CI)", "balanced % (95% CI)", "ms/image"]
    lines = ["# Cross-dataset accuracy, no fine-tuning", "",
             overall[columns].to_markdown(index=False),
             "", "## Per class (%)", ""]
    per_class = frame[frame["class"] != "all"].pivot_table(index=["test_set", "class"], columns="method",
                                                           values="accuracy")
    lines.append((100 * per_class).round(1).to_markdown())
    return "\n".join(lines) + "\n"


def card_table(frame: pd.DataFrame) -> str:
    """The model card's table (rendered by ``python -m tools.render_docs``): one row per test set and
    method with accuracy and balanced accuracy (95% CIs), faces found, ms/image."""
    overall = frame[frame["class"] == "all"]
    rows = ["| test set | method | accuracy % (95% CI) | balanced % (95% CI) | faces found | ms/image |",
            "|---|---|---:|---:|---:|---:|"]
    for row in overall.itertuples():
        rows.append(f"| {row.test_set} | {row.method} | {100 * row.accuracy:.1f} ({100 * row.ci_low:.1f}–"
                    f"{100 * row.ci_high:.1f}) | {100 * row.balanced_accuracy:.1f} ({100 * row.balanced_ci_low:.1f}–"
                    f"{100 * row.balanced_ci_high:.1f}) | {row.faces_found} of {row.images} | {row.ms_per_image:.1f} |")
    return "\n".join(rows)


def _shown(model: str) -> str:
    """A model as the results name it: ``pretrained``, ``fer`` or the run folder's name (no machine path)."""
    return model if model in ("pretrained", "fer") else Path(model).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=RUN[,TWIN...]",
                        help="a FER2013-trained run directory, .keras file or pretrained (repeatable; NAME= "
                             "optional); with twins, each set is scored by the first that never trained on it "
                             "(train_extra), and a set every one trained on is left out")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--no-fer", action="store_true", help="leave the fer package out")
    parser.add_argument("--fer-python", default=None, metavar="PYTHON",
                        help="run fer with this interpreter (a venv with opencv-python-headless<5 and fer)")
    parser.add_argument("--fer-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--privatetest", action="store_true", help="also FER2013's PrivateTest (3,589 crops, no detection)")
    parser.add_argument("--workers", type=int, nargs="+", default=[None], metavar="N",
                        help="threads reading and detecting (default: predict's, min(8, cores)); several: one row each")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.fer_worker:
        return fer_worker(*args.fer_worker)
    if args.out is None:
        parser.error("--out is required")
    rows, labelled = [], []
    for test_set, (table, detect) in test_sets(args.datasets, args.privatetest).items():
        results = []
        for spec in args.model:
            name, _, runs = spec.rpartition("=")
            run = unseen_run(runs.split(","), test_set)
            if run is None:
                print(f"fer_keras {name or runs} left out of {test_set}: it trained on that set")
                continue
            for workers in args.workers:
                label = f"fer_keras {name or Path(run).name}" + (f" ({workers} threads)" if len(args.workers) > 1 else "")
                results.append((label, *fer_keras_labels(run, table, detect, workers), run))
        if not args.no_fer:
            try:
                results.append(("fer (mini-Xception, Haar)", *(fer_labels_elsewhere(args.fer_python, table, detect)
                                                               if args.fer_python else fer_labels(table, detect)), "fer"))
            except ImportError as error:
                print(f"fer left out: {error}")
        for method, labels, ms, model in results:
            rows += [{**row, "model": _shown(model)} for row in score(method, test_set, table, labels, ms)]
            labelled.append(pd.DataFrame({"test_set": test_set, "method": method, "file": table["path"].map(
                lambda p: Path(p).name), "label": table["label"].to_numpy(), "predicted": labels}))
    frame = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "cross_dataset.csv", index=False)
    pd.concat(labelled, ignore_index=True).to_csv(args.out / "labels.csv", index=False)  # file names, no image
    (args.out / "cross_dataset.md").write_text(markdown(frame))
    print(markdown(frame))
    return 0


if __name__ == "__main__":
    sys.exit(main())
