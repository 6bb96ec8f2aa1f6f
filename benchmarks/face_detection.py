"""Faces found per detector, and what the detector and eye alignment do to accuracy, on the real data.

``python benchmarks/face_detection.py --out DIR [--model RUN_DIR ...] [--fer2013-sample 1000]``

1. **Faces found** (share of images with a face, ms per image, one detector at a time on this
   CPU): JAFFE (213 full 256×256 photos), JAFFE turned ±15° and ±30° in-plane (about the image
   centre, border repeated), CK+48 upscaled to 320 px (the 48 px crop fills the frame; all 981
   images) and a FER2013 sample (seeded, from all splits, native 48 px).
2. **Cross-dataset accuracy per detector × alignment** for each ``--model`` (FER2013-trained
   runs): JAFFE with face detection, the model's own crop settings but the benchmarked detector
   (haar; mtcnn; mtcnn + align). An image with no face counts as wrong.

Writes ``face_detection.csv``, ``detection_accuracy.csv`` and ``face_detection.md`` into DIR.
Needs ../shared/datasets (or ``--datasets``); no image is written.
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
#: Detector settings compared (``face_crop`` overrides).
SETTINGS = {"haar": {"detector": "haar"}, "mtcnn": {"detector": "mtcnn"},
            "mtcnn + align": {"detector": "mtcnn", "align": True}}
ANGLES = (15, -15, 30, -30)
CKPLUS_SIDE = 320


def turned(image: np.ndarray, angle: float) -> np.ndarray:
    """``image`` turned ``angle`` degrees counter-clockwise about its centre, border repeated."""
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def image_sets(datasets: Path, fer2013_sample: int, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Name → list of RGB uint8 images."""
    import cv2

    from fer_keras.data.readers.ckplus import read_ckplus
    from fer_keras.data.readers.fer2013 import read_fer2013
    from fer_keras.data.image_io import read_image
    from fer_keras.data.readers.jaffe import read_jaffe

    jaffe = [read_image(p) for p in read_jaffe(datasets / "JAFFE").table["path"]]
    sets = {"JAFFE (256 px)": jaffe}
    for angle in ANGLES:
        sets[f"JAFFE turned {angle:+d}°"] = [turned(image, angle) for image in jaffe]
    ckplus = read_ckplus(datasets / "CK+48", keep_contempt=True).table
    sets[f"CK+48 upscaled to {CKPLUS_SIDE} px"] = [
        cv2.resize(read_image(p), (CKPLUS_SIDE, CKPLUS_SIDE), interpolation=cv2.INTER_CUBIC) for p in ckplus["path"]]
    fer = read_fer2013(datasets / "FER2013").table
    chosen = np.random.default_rng(seed).choice(len(fer), size=min(fer2013_sample, len(fer)), replace=False)
    sets[f"FER2013 sample ({len(chosen)}, 48 px)"] = [read_image(p) for p in fer["path"].to_numpy()[np.sort(chosen)]]
    return sets


def detection_rows(sets: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """One row per detector × set: images, faces found, share, ms per image."""
    from fer_keras.config import FaceCropConfig
    from fer_keras.data.faces.detect import find_detections

    rows = []
    for detector in ("haar", "mtcnn"):
        settings = FaceCropConfig(enabled=True, detector=detector)
        find_detections(next(iter(sets.values()))[0], settings)  # load the detector outside the timing
        for name, images in sets.items():
            start = time.perf_counter()
            found = sum(bool(find_detections(image, settings)) for image in images)
            elapsed = time.perf_counter() - start
            rows.append({"detector": detector, "set": name, "images": len(images), "found": found,
                         "found_pct": round(100 * found / len(images), 1),
                         "ms_per_image": round(1000 * elapsed / len(images), 1)})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def accuracy_rows(runs: list[str], datasets: Path) -> pd.DataFrame:
    """One row per model × setting × class (and ``all``) on JAFFE with detection."""
    from fer_keras.data.image_io import read_image
    from fer_keras.data.readers.jaffe import read_jaffe
    from fer_keras.inference.predictor import Predictor, Preprocessing

    table = read_jaffe(datasets / "JAFFE").table
    images = [read_image(p) for p in table["path"]]
    rows = []
    for run in runs:
        base = Predictor.load(run, detect=True)
        for name, override in SETTINGS.items():
            settings = base.preprocessing.face_crop.model_copy(update=override)
            preprocessing = Preprocessing(base.preprocessing.image_size, base.preprocessing.color_mode, settings, True)
            predictor = Predictor(base.model, base.classes, preprocessing, detect=True, engine=base.engine)
            predicted = []
            for image in images:
                faces = predictor.predict(image)
                predicted.append(predictor.classes[int(np.argmax(faces[0].probabilities))] if faces else None)
            frame = pd.DataFrame({"label": table["label"], "predicted": predicted})
            frame["correct"] = frame["label"] == frame["predicted"]
            groups = [("all", frame)] + list(frame.groupby("label"))
            for cls, part in groups:
                rows.append({"model": run, "setting": name, "class": cls, "images": len(part),
                             "no_face": int(part["predicted"].isna().sum()),
                             "accuracy_pct": round(100 * part["correct"].mean(), 1)})
            print(rows[-len(groups)], flush=True)
    return pd.DataFrame(rows)


def markdown(found: pd.DataFrame, accuracy: pd.DataFrame) -> str:
    share = found.pivot(index="set", columns="detector", values="found_pct").add_suffix(" found %")
    speed = found.pivot(index="set", columns="detector", values="ms_per_image").add_suffix(" ms/image")
    table = share.join(speed).reset_index()
    text = "## Faces found per detector\n\n" + table.to_markdown(index=False) + "\n"
    if len(accuracy):
        overall = accuracy[accuracy["class"] == "all"].pivot(index="model", columns="setting", values="accuracy_pct")
        text += "\n## JAFFE accuracy with detection, per detector × alignment (%)\n\n" + overall.reset_index().to_markdown(index=False) + "\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", action="append", default=[], help="a FER2013-trained run directory (repeatable)")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--fer2013-sample", type=int, default=1000)
    parser.add_argument("--skip-detection", action="store_true", help="only the accuracy part")
    args = parser.parse_args(argv)
    if not (args.datasets / "JAFFE").is_dir():
        print(f"error: no real datasets at {args.datasets}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    found = pd.DataFrame()
    if not args.skip_detection:
        found = detection_rows(image_sets(args.datasets, args.fer2013_sample))
        found.to_csv(args.out / "face_detection.csv", index=False)
    elif (args.out / "face_detection.csv").is_file():
        found = pd.read_csv(args.out / "face_detection.csv")
    accuracy = accuracy_rows(args.model, args.datasets) if args.model else pd.DataFrame()
    earlier = args.out / "detection_accuracy.csv"
    if earlier.is_file():  # rows of other models from an earlier run are kept
        previous = pd.read_csv(earlier)
        accuracy = pd.concat([previous[~previous["model"].isin(args.model)], accuracy], ignore_index=True)
    if len(accuracy):
        accuracy.to_csv(earlier, index=False)
    (args.out / "face_detection.md").write_text(markdown(found, accuracy))
    print((args.out / "face_detection.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
