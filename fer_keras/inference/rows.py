"""Prediction output rows: one per face (or per image without a face), from faces or image files, and as a table.

Every row starts with :data:`ROW_COLUMNS` and then has ``prob_<class>`` per class; ``status``
says whether the image had a face (:data:`OK`), had none (:data:`NO_FACE`, face -1) or could not
be read (``unreadable: <why>``), so no image is dropped from the output.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.labels import PROB_PREFIX
from fer_keras.errors import ImageError
from fer_keras.data.image_io import read_image
from fer_keras.inference.predictor import Face, Predictor

log = logging.getLogger(__name__)

#: Status of a row whose image had a face / had none / could not be read.
OK, NO_FACE, UNREADABLE = "ok", "no face", "unreadable"
#: Probabilities are written with this many decimals (float32 carries about seven digits; four read well).
DECIMALS = 4
#: Columns every prediction row starts with (then ``prob_<class>`` per class).
ROW_COLUMNS = ("source", "frame", "face", "status", "x", "y", "w", "h", "label", "confidence")


def face_row(source: str, frame: int, index: int, face: Face | None, classes: list[str],
             status: str = OK) -> dict:
    """One output row: a face with its probabilities, or (``face`` None) an image with no face."""
    row = dict.fromkeys(ROW_COLUMNS) | {"source": source, "frame": frame, "face": index, "status": status}
    row.update(dict.fromkeys(f"{PROB_PREFIX}{name}" for name in classes))
    if face is not None:
        row.update(zip("xywh", face.box))
        top = int(np.argmax(face.probabilities))
        row["label"], row["confidence"] = classes[top], round(float(face.probabilities[top]), DECIMALS)
        row.update({f"{PROB_PREFIX}{name}": round(float(p), DECIMALS) for name, p in zip(classes, face.probabilities)})
    return row


def image_rows(source: str, faces: list[Face], classes: list[str], frame: int = 0) -> list[dict]:
    """Rows for one image: one per face, or one ``no face`` row (face -1) so no image is dropped."""
    if not faces:
        return [face_row(source, frame, -1, None, classes, NO_FACE)]
    return [face_row(source, frame, i, face, classes) for i, face in enumerate(faces)]


#: Images whose faces go to the model in one call when a folder is predicted.
FOLDER_BATCH = 32
#: Images read and searched for faces at once in a folder (OpenCV and TensorFlow release the GIL).
FOLDER_WORKERS = min(8, os.cpu_count() or 1)


def predict_images(predictor: Predictor, paths: Iterable[Path], root: Path | None = None,
                   batch: int = FOLDER_BATCH, workers: int = FOLDER_WORKERS,
                   ) -> Iterator[tuple[Path, np.ndarray | None, list[Face], list[dict]]]:
    """Per image file: (path, image or None, faces, rows). Unreadable files give an ``unreadable`` row.

    ``workers`` threads read the images and find their faces; the faces of up to ``batch`` images
    are then classified in one model call (the results equal :meth:`Predictor.predict` per image);
    rows come out in the order of ``paths``.
    """
    paths = iter(paths)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while chunk := list(islice(paths, batch)):
            found = list(pool.map(lambda path: _read_and_find(predictor, path, root), chunk))
            inputs = [predictor.prepare(image, d) for _, _, image, detections, _ in found for d in detections]
            probabilities = iter(predictor.probabilities(np.stack(inputs)) if inputs else [])
            for path, source, image, detections, error in found:
                if error is not None:
                    row = face_row(source, 0, -1, None, predictor.classes, f"{UNREADABLE}: {error.reason}")
                    yield path, None, [], [row]
                    continue
                faces = [Face(tuple(int(v) for v in d.box), next(probabilities)) for d in detections]
                yield path, image, faces, image_rows(source, faces, predictor.classes)


def _read_and_find(predictor: Predictor, path: Path, root: Path | None) -> tuple:
    """(path, source name, image or None, detections, ImageError or None) for one file."""
    source = str(path.relative_to(root)) if root is not None else str(path)
    try:
        image = read_image(path)
    except ImageError as error:
        log.warning("skipping %s", error)
        return path, source, None, [], error
    return path, source, image, predictor.find_detections(image), None


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a table with integer box and id columns that stay empty where there is no face."""
    frame = pd.DataFrame(rows)
    for column in ("x", "y", "w", "h", "track"):
        if column in frame.columns:
            frame[column] = pd.array(frame[column], dtype="Int64")
    return frame
