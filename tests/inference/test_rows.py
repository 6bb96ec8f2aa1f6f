"""Prediction rows: one per face, a no-face row per image without faces, unreadable files, batched folders."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.data.readers.synthetic import draw_face
from fer_keras.inference import predictor as predictor_module
from fer_keras.inference.predictor import Predictor
from fer_keras.inference.rows import NO_FACE, OK, image_rows, predict_images, rows_frame
from fer_keras.labels import CLASSES_7
from tests.inference.fakes import place

FACE_BOX = (230, 130, 150, 150)


@pytest.fixture
def fixed_detector(stub_detector):
    """Detection that finds FACE_BOX in 480x640 frames and nothing in other images."""
    def detect(image, min_size=20):
        return [FACE_BOX] if image.shape[:2] == (480, 640) else []

    stub_detector(detect)


def test_folder_reports_no_face_and_unreadable_images(predictor, fixed_detector, tmp_path):
    (tmp_path / "sub").mkdir()
    face = place(draw_face(2, "anger", 160, "rgb"))
    cv2.imwrite(str(tmp_path / "face.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "sub" / "wall.png"), np.full((100, 120), 128, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    paths = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    results = list(predict_images(predictor, paths, root=tmp_path))
    frame = rows_frame([row for *_, rows in results for row in rows]).set_index("source")
    assert frame.loc["face.png", "status"] == OK and frame.loc["face.png", "face"] == 0
    assert frame.loc["face.png", "x"] == FACE_BOX[0] and str(frame["x"].dtype) == "Int64"
    probs = frame.loc["face.png", [f"prob_{c}" for c in CLASSES_7]].astype(float)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert frame.loc["face.png", "label"] == CLASSES_7[int(np.argmax(probs.to_numpy()))]
    assert frame.loc["sub/wall.png", "status"] == NO_FACE and frame.loc["sub/wall.png", "face"] == -1
    assert frame.loc["broken.jpg", "status"].startswith("unreadable")
    assert pd.isna(frame.loc["sub/wall.png", "label"]) and pd.isna(frame.loc["sub/wall.png", "x"])


def test_folder_batches_model_calls_and_gives_what_one_image_at_a_time_gives(stub_detector, run_dir, tmp_path, monkeypatch):
    boxes = {0: [FACE_BOX], 1: [], 2: [FACE_BOX, (10, 10, 60, 60)]}
    stub_detector(lambda image, min_size=20: boxes[int(image[0, 0, 0]) % 3])
    paths = []
    for i in range(7):
        picture = place(draw_face(i, CLASSES_7[i], 160, "rgb"), background=i)
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    predictor = Predictor.load(run_dir, engine="keras")
    calls = []
    original = predictor.probabilities
    monkeypatch.setattr(predictor, "probabilities", lambda inputs: calls.append(len(inputs)) or original(inputs))
    batched = list(predict_images(predictor, paths, batch=4))
    assert calls == [4, 3]  # faces of images 0-3 (1+0+2+1), then 4-6 (0+2+1): two model calls for seven images
    for (path, _, faces, _), alone in zip(batched, (predictor.predict(cv2.imread(str(p))[..., ::-1]) for p in paths)):
        assert [f.box for f in faces] == [f.box for f in alone]
        for face, single in zip(faces, alone):
            np.testing.assert_allclose(face.probabilities, single.probabilities, atol=1e-6)


def test_folder_finds_faces_on_several_threads_and_keeps_the_order(stub_detector, predictor, tmp_path):
    import threading
    import time

    threads = set()

    def slow_detect(image, min_size=20):  # later images answer first
        threads.add(threading.get_ident())
        time.sleep(0.02 * (8 - int(image[0, 0, 0]) % 8))
        return [FACE_BOX]

    stub_detector(slow_detect)
    paths = []
    for i in range(8):
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), cv2.cvtColor(place(draw_face(i, CLASSES_7[i % 7], 160, "rgb"), background=i),
                                                cv2.COLOR_RGB2BGR))
    pooled = [(p, [f.box for f in faces], [r["prob_anger"] for r in rows])
              for p, _, faces, rows in predict_images(predictor, paths, workers=4)]
    assert len(threads) > 1
    alone = [(p, [f.box for f in faces], [r["prob_anger"] for r in rows])
             for p, _, faces, rows in predict_images(predictor, paths, workers=1)]
    assert [p for p, *_ in pooled] == paths
    assert pooled == alone


def test_image_rows_one_row_per_face(predictor):
    faces = [predictor_module.Face((0, 0, 10, 10), np.eye(7)[3]), predictor_module.Face((5, 5, 9, 9), np.eye(7)[6])]
    rows = image_rows("a.png", faces, list(CLASSES_7))
    assert [r["face"] for r in rows] == [0, 1]
    assert [r["label"] for r in rows] == ["happiness", "neutral"]
    assert image_rows("b.png", [], list(CLASSES_7))[0]["status"] == NO_FACE
