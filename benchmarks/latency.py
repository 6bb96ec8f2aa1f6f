"""Predict latency for one image (face detection + model): fer_keras's Predictor vs the ``fer`` package.

Images: photos of the KDEF subset (562×762, one face at a photo's framing) resized to 320×320;
without it CK+48 faces (48×48, the face fills the image) upscaled to
320×320 RGB, or synthetic faces when CK+48 is absent too.
Every method sees every image once per repeat, in rotating order; the per-image median over
repeats, then the median (and 90th percentile) over images, is reported in milliseconds.

- **fer_keras**: ``Predictor.predict`` on an (untrained) ``custom_cnn2`` saved as ``.keras``,
  with its default engine (the model converted to TFLite at load) and with the Keras engine
  (Haar cascade with the run's ``face_crop.min_size``: 20 px by default, and also 50 px, the
  ``fer`` package's default; on these 320 px images faces are sought from 320 // 8 = 40 px up,
  on a copy shrunk so 40 px maps to the cascade's 24 px window), plus its detection and model
  stages timed alone, and the cascade at full resolution from 20 px (detection before the
  relative minimum size) for comparison; and the bundled FER2013 model as predict runs it
  without ``--model``, with the detector ``auto`` picks here and with MTCNN (OpenCV 5's pick).
- **fer**: ``FER(mtcnn=False).detect_emotions`` (PyPI ``fer``: Haar cascade + a 64×64 CNN,
  its default TFLite interpreter, and also its Keras ``.hdf5`` model). ``fer`` declares heavy
  dependencies (``facenet-pytorch`` → torch, ``opencv-contrib-python``, which would replace
  opencv-python-headless); its Haar path needs none of them, so install it with
  ``pip install --no-deps fer``. When it cannot be imported the rows say why.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from benchmarks import SHARED_DATASETS, median, sample_table

IMAGE_SIDE = 320
KDEF_SUBSET = "KDEF_subset"
FER_KERAS = "fer_keras Predictor.predict"
FER = "fer FER(mtcnn=False).detect_emotions"
DETECT_STAGE = "fer_keras stage: detect_faces only"
MODEL_STAGE = "fer_keras stage: crop + resize + model only"
FER_DETECT_STAGE = "fer stage: find_faces only (min_face_size 50)"
FULL_RESOLUTION_STAGE = "fer_keras stage: cascade at full resolution from 20 px (the detection before)"


def photo_table(data_root: Path | None = None):
    """The KDEF subset's table of photos and its description, or ``(None, "")`` where it is absent."""
    root = Path(data_root if data_root is not None else SHARED_DATASETS) / KDEF_SUBSET
    if not root.is_dir():
        return None, ""
    from fer_keras.data.registry import read_dataset

    table = read_dataset("kdef", str(root)).table
    return table, f"KDEF subset ({len(table)} real photos)"


def latency_images(count: int = 36, side: int = IMAGE_SIDE, data_root: Path | None = None,
                   frame: tuple[int, int] | None = None) -> tuple[list[np.ndarray], str]:
    """``count`` RGB uint8 face images ``side``×``side`` spread over the classes, and their source.

    With ``frame`` (width, height) each face is centred in a grey frame of that size, as a
    camera frame with one face in it.
    """
    from fer_keras.data.faces.table import load_row_image

    table, source = photo_table(data_root)
    if table is None:
        table, source, _, _ = sample_table(data_root)
    order = np.random.default_rng(0).permutation(len(table))
    labels = table["label"].to_numpy()[order]
    by_class = [list(order[labels == name]) for name in sorted(set(labels))]
    picked: list[int] = []
    while len(picked) < count and any(by_class):  # round-robin over the classes
        picked += [members.pop(0) for members in by_class if members]
    images = []
    for _, row in table.iloc[picked[:count]].iterrows():
        image = load_row_image(row)
        if image.shape[-1] == 1:
            image = np.repeat(image, 3, axis=-1)
        images.append(cv2.resize(image[..., :3], (side, side),
                                 interpolation=cv2.INTER_AREA if min(image.shape[:2]) > side else cv2.INTER_CUBIC))
    described = f"{len(images)} {source.split(' (')[0]} images resized to {side}x{side} RGB"
    if frame is not None:
        width, height = frame
        top, left = (height - side) // 2, (width - side) // 2
        images = [cv2.copyMakeBorder(image, top, height - side - top, left, width - side - left,
                                     cv2.BORDER_CONSTANT, value=(128, 128, 128)) for image in images]
        described += f", each centred in a {width}x{height} grey frame"
    return images, described


def fer_keras_predictor(folder: Path, min_size: int | None = None, engine: str = "auto"):
    """A Predictor on an untrained custom_cnn2 (48×48 grayscale, 7 classes) saved under ``folder``."""
    import keras

    from fer_keras.config import FaceCropConfig
    from fer_keras.inference.predictor import Predictor, Preprocessing
    from fer_keras.labels import CLASSES_7
    from fer_keras.models import build_model

    path = folder / "custom_cnn2.keras"
    if not path.exists():
        keras.utils.set_random_seed(0)
        build_model("custom_cnn2", (48, 48, 1), len(CLASSES_7)).save(path)
        (folder / "metrics.json").write_text(json.dumps({"classes": list(CLASSES_7)}))
    predictor = Predictor.load(path, engine=engine)
    if min_size is not None:
        face_crop = FaceCropConfig(min_size=min_size)
        predictor = Predictor(predictor.model, predictor.classes,
                              Preprocessing(predictor.preprocessing.image_size, predictor.preprocessing.color_mode,
                                            face_crop), engine=engine)
    return predictor


def bundled_calls() -> dict[str, Callable[[np.ndarray], int]]:
    """The bundled FER2013 model as ``python -m fer_keras.predict photo.jpg`` (no --model) runs it (MTCNN, the
    shipped config's detector), and with ``--detector haar`` (OpenCV 4 only)."""
    from fer_keras.data.faces.detect import haar_available
    from fer_keras.errors import UserError
    from fer_keras.inference.predictor import Predictor

    try:
        bundled = Predictor.load(None, convert=False)  # what the CLI does for one image
    except UserError as error:
        logging.getLogger(__name__).warning("bundled model left out: %s", error)
        return {}
    calls = {f"{FER_KERAS} (bundled FER2013 model, {bundled.engine} engine, "
             f"{bundled.preprocessing.face_crop.detector} detector, as predict without --model)":
             lambda im: len(bundled.predict(im))}
    if haar_available():
        haar = Predictor.load(None, convert=False, face_crop={"detector": "haar"})
        calls[f"{FER_KERAS} (bundled FER2013 model, haar detector, predict --detector haar)"] = \
            lambda im: len(haar.predict(im))
    return calls


def fer_detector(use_tflite: bool = True):
    """``fer.fer.FER(mtcnn=False)``; raises ImportError (with the reason) when ``fer`` is unusable."""
    from fer.fer import FER

    logging.getLogger("fer").setLevel(logging.WARNING)
    return FER(mtcnn=False, use_tflite=use_tflite)


def fer_status() -> tuple[bool, str]:
    """Whether ``fer`` imports here, and its version or the error."""
    try:
        import fer

        from fer.fer import FER  # noqa: F401
        return True, f"fer {getattr(fer, '__version__', '?')}"
    except Exception as error:  # ImportError, or a dependency failing at import
        return False, f"fer unavailable: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def methods(folder: Path, images: list[np.ndarray], include_fer: bool = True, stages: bool = True
            ) -> tuple[dict[str, Callable[[np.ndarray], int]], str]:
    """Name → call on one RGB image returning the number of faces found; and fer's status.

    ``stages`` adds fer_keras's detection and model stages (and fer's detection) timed alone;
    ``include_fer`` false leaves fer out (its status says so).
    """
    from fer_keras.config import FaceCropConfig
    from fer_keras.data.faces.detect import find_detections

    predictor = fer_keras_predictor(folder)
    keras_engine = fer_keras_predictor(folder, engine="keras")
    matched = fer_keras_predictor(folder, min_size=50)
    settings = predictor.preprocessing.face_crop

    def detect_only(image: np.ndarray, which=predictor) -> int:
        return len(which.find_faces(image))

    known_boxes = {}
    for image in images:  # detected once here, so the model stage is timed alone
        found = predictor.find_faces(image)
        known_boxes[id(image)] = found[0] if found else (0, 0, image.shape[1], image.shape[0])

    def model_only(image: np.ndarray, which=predictor) -> int:
        which.probabilities(which.prepare(image, known_boxes[id(image)])[None])
        return 1

    def full_resolution_detection(image: np.ndarray) -> int:
        from fer_keras.data.faces.detect import MIN_NEIGHBORS, SCALE_FACTOR, _cascade, to_gray_uint8

        found = _cascade().detectMultiScale(to_gray_uint8(image), scaleFactor=SCALE_FACTOR,
                                            minNeighbors=MIN_NEIGHBORS, minSize=(20, 20))
        return len(found)

    calls: dict[str, Callable[[np.ndarray], int]] = {
        f"{FER_KERAS} (min_size {settings.min_size}, {predictor.engine} engine, default)":
            lambda im: len(predictor.predict(im)),
        **bundled_calls(),
        f"{FER_KERAS} (min_size {settings.min_size}, keras engine)": lambda im: len(keras_engine.predict(im)),
        f"{FER_KERAS} (min_size 50 as fer, {matched.engine} engine)": lambda im: len(matched.predict(im)),
    }
    if stages:
        calls[f"{DETECT_STAGE} (min_size {settings.min_size})"] = detect_only
        calls[f"{DETECT_STAGE} (min_size 50)"] = lambda im: detect_only(im, matched)
        calls[f"{MODEL_STAGE} ({predictor.engine} engine)"] = model_only
        calls[f"{MODEL_STAGE} (keras engine)"] = lambda im: model_only(im, keras_engine)
        calls[FULL_RESOLUTION_STAGE] = full_resolution_detection
        mtcnn = FaceCropConfig(detector="mtcnn")
        calls[f"{DETECT_STAGE} (mtcnn, min_size {mtcnn.min_size})"] = lambda im: len(find_detections(im, mtcnn))
    available, status = fer_status() if include_fer else (False, "fer left out")
    if available:
        detectors = {"tflite": fer_detector(True), "keras .hdf5": fer_detector(False)}
        for name, detector in detectors.items():
            calls[f"{FER} ({name})"] = (
                lambda im, d=detector: len(d.detect_emotions(cv2.cvtColor(im, cv2.COLOR_RGB2BGR))))
        if stages:
            calls[FER_DETECT_STAGE] = (
                lambda im, d=detectors["tflite"]: len(d.find_faces(cv2.cvtColor(im, cv2.COLOR_RGB2BGR))))
    return calls, status


def predict_latency(count: int = 36, repeats: int = 3, warmup: int = 3, data_root: Path | None = None,
                    include_fer: bool = True, stages: bool = True, frame: tuple[int, int] | None = None) -> dict:
    """Median/p90 milliseconds per image and images with a face found, per method."""
    images, source = latency_images(count, data_root=data_root, frame=frame)
    with tempfile.TemporaryDirectory(prefix="fer_keras_bench_") as folder:
        calls, status = methods(Path(folder), images, include_fer, stages)
        for call in calls.values():
            for image in images[:warmup]:
                call(image)
        times = {name: [[] for _ in images] for name in calls}
        faces = {name: 0 for name in calls}
        names = list(calls)
        for repeat in range(repeats):
            for position, image in enumerate(images):
                shift = (repeat * len(images) + position) % len(names)
                for name in names[shift:] + names[:shift]:
                    start = time.perf_counter()
                    found = calls[name](image)
                    times[name][position].append(time.perf_counter() - start)
                    if repeat == 0:
                        faces[name] += int(found > 0)
    rows = []
    for name in names:
        per_image = [median(values) * 1000.0 for values in times[name]]
        rows.append({"method": name, "median_ms": median(per_image), "p90_ms": float(np.percentile(per_image, 90)),
                     "images_with_face": f"{faces[name]}/{len(images)}"})
    import tensorflow as tf

    threads = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    height, width = images[0].shape[:2]
    return {"source": source, "repeats": repeats, "fer_status": status, "rows": rows, "image": f"{width}x{height}",
            "tf_threads": "default (0 = all cores)" if threads == (0, 0) else f"intra {threads[0]}, inter {threads[1]}"}


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.latency --json OUT [--tf-threads N]``: run in a fresh process, write the result."""
    import argparse
    import os
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the result")
    parser.add_argument("--count", type=int, default=36)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tf-threads", type=int, default=0, help="TensorFlow intra/inter-op threads (0: default)")
    parser.add_argument("--no-stages", action="store_true", help="time whole predictions only")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--frame", default=None, metavar="WxH",
                        help="centre each face in a grey frame of this size (e.g. 640x480, a camera frame)")
    args = parser.parse_args(argv)
    frame = tuple(int(v) for v in args.frame.lower().split("x")) if args.frame else None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore")
    import tensorflow as tf

    if args.tf_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)
    result = predict_latency(args.count, args.repeats, data_root=args.data_root, stages=not args.no_stages,
                             frame=frame)
    args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
