"""Predictor: loading runs and .keras files, training-identical preprocessing, faces and their probabilities."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.config import FaceCropConfig
from fer_keras.data.faces import detect as face_detect
from fer_keras.data.faces import table as faces_module
from fer_keras.data.readers.synthetic import draw_face
from fer_keras.errors import InferenceError
from fer_keras.inference.predictor import Predictor, Preprocessing, find_model_file
from fer_keras.inference.rows import predict_images
from fer_keras.labels import CLASSES_7
from tests.markers import requires_haar
from tests.inference.fakes import make_run_dir, place

FACE_BOX = (230, 130, 150, 150)


def test_load_run_dir_reads_config_and_classes(run_dir, predictor):
    assert predictor.classes == list(CLASSES_7)
    assert predictor.preprocessing.image_size == (48, 48)
    assert predictor.preprocessing.color_mode == "grayscale"
    assert predictor.preprocessing.face_crop.enabled and predictor.preprocessing.face_crop.margin == 0.2
    from_file = Predictor.load(run_dir / "model_fold0.keras")
    assert from_file.classes == predictor.classes and from_file.preprocessing == predictor.preprocessing


def test_bare_keras_file_takes_shape_from_model(run_dir, tmp_path, caplog):
    shutil.copy(run_dir / "model_fold0.keras", tmp_path / "alone.keras")
    alone = Predictor.load(tmp_path / "alone.keras")
    assert alone.preprocessing.input_shape == (48, 48, 1)
    assert alone.classes == [f"class_{i}" for i in range(7)]
    assert "classes are named" in caplog.text


def test_bad_model_paths_raise_one_line(tmp_path, run_dir):
    with pytest.raises(InferenceError, match="does not exist"):
        find_model_file(tmp_path / "missing")
    (tmp_path / "weights.h5").write_bytes(b"x")
    with pytest.raises(InferenceError, match="neither a run directory nor a .keras file"):
        find_model_file(tmp_path / "weights.h5")
    with pytest.raises(InferenceError, match="not a finished run directory"):
        find_model_file(tmp_path)
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(InferenceError, match="cannot load model"):
        Predictor.load(tmp_path / "broken.keras")


def test_class_count_must_match_model(predictor):
    with pytest.raises(InferenceError, match="7 outputs but 2 class names"):
        Predictor(predictor.model, ["a", "b"], predictor.preprocessing)
    with pytest.raises(InferenceError, match="takes"):
        Predictor(predictor.model, predictor.classes, Preprocessing((64, 64), "grayscale"))


def test_every_face_gets_probabilities_summing_to_one(stub_detector, predictor):
    boxes = [(10, 10, 120, 120), (200, 60, 80, 80)]
    stub_detector(lambda image, min_size=20: boxes)
    image = place(draw_face(3, "happiness", 128, "rgb"), at=(10, 10))
    faces = predictor.predict(image)
    assert [f.box for f in faces] == boxes
    for face in faces:
        assert face.probabilities.shape == (7,)
        assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(faces[0].probabilities, faces[1].probabilities)


def test_preprocessing_matches_the_training_pipeline(stub_detector, predictor):
    """The predictor's face input equals what crop_table + load_images made of the same image in training."""
    from fer_keras.data.decode import load_images

    image = place(draw_face(5, "surprise", 160, "rgb"), at=(220, 100))
    stub_detector(lambda image, min_size=20: [FACE_BOX])
    table = pd.DataFrame({"path": [None], "image": [image], "label": ["surprise"], "subject": ["s"], "dataset": ["x"]})
    kept, _ = faces_module.crop_table(table, FaceCropConfig(enabled=True, margin=0.2, square=True, cache=False))
    training_input = load_images(kept, (48, 48), "grayscale")[0]
    box = predictor.find_faces(image)[0]
    np.testing.assert_array_equal(predictor.prepare(image, box), training_input)


@pytest.mark.parametrize("seed", [1, 3])
def test_real_detection_on_a_synthetic_frame_matches_training(predictor, seed):
    """The run's own detector (Haar on OpenCV 4, MTCNN on 5): the box and probabilities equal
    training's crop_table + load_images of the same frame."""
    from fer_keras.data.decode import load_images

    frame = place(draw_face(seed, "happiness", 160, "rgb"))
    (face,) = predictor.predict(frame)
    table = pd.DataFrame({"path": [None], "image": [frame], "label": ["happiness"], "subject": ["s"], "dataset": ["x"]})
    kept, _ = faces_module.crop_table(table, predictor.preprocessing.face_crop.model_copy(update={"cache": False}))
    assert face.box == kept.loc[0, "face_box"]
    training = predictor.probabilities(load_images(kept, (48, 48), "grayscale"))[0]
    np.testing.assert_allclose(face.probabilities, training, atol=1e-6)


@requires_haar
@pytest.mark.parametrize("seed", [1, 3])
def test_haar_search_relative_to_the_frame_matches_the_full_resolution_search(predictor, seed):
    """Box and label match the full-resolution search (the detection before the relative size)."""
    from fer_keras.inference.video import box_iou

    frame = place(draw_face(seed, "happiness", 160, "rgb"))
    (face,) = predictor.predict(frame)
    full = face_detect._cascade().detectMultiScale(face_detect.to_gray_uint8(frame), 1.1, 5, minSize=(20, 20))
    before = tuple(int(v) for v in max(full, key=lambda box: box[2] * box[3]))
    assert box_iou(face.box, before) > 0.85
    old = predictor.probabilities(predictor.prepare(frame, before)[None])[0]
    assert np.argmax(face.probabilities) == np.argmax(old)


def test_model_is_traced_once_for_any_number_of_faces(stub_detector, run_dir):
    fresh = Predictor.load(run_dir, engine="keras")
    image = place(draw_face(3, "happiness", 128, "rgb"), at=(10, 10))
    for boxes in ([(10, 10, 120, 120)], [(10, 10, 120, 120), (200, 60, 80, 80)], [(5, 5, 60, 60)]):
        stub_detector(lambda image, min_size=20, boxes=boxes: boxes)
        assert len(fresh.predict(image)) == len(boxes)
    assert fresh.keras_runner.traced.experimental_get_tracing_count() == 1


def test_no_detect_uses_the_whole_image(run_dir):
    whole = Predictor.load(run_dir, detect=False)
    image = draw_face(1, "neutral", 96, "rgb")
    assert whole.find_faces(image) == [(0, 0, 96, 96)]
    expected = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(whole.prepare(image, (0, 0, 96, 96))[..., 0], expected)
    assert len(whole.predict(image)) == 1


@pytest.mark.real_data
def test_real_ckplus_faces_are_detected_and_classified(predictor, ckplus48_root, tmp_path):
    """CK+48 crops upscaled to 192 px and padded (a face in a larger picture): the run's detector finds most."""
    sources = sorted((ckplus48_root / "happy").glob("*.png"))[:6] + sorted((ckplus48_root / "surprise").glob("*.png"))[:6]
    assert sources, "CK+48 has no happy/surprise PNGs"
    for path in sources:
        face = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (192, 192), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / path.name), cv2.copyMakeBorder(face, 40, 40, 60, 60, cv2.BORDER_REPLICATE))
    results = list(predict_images(predictor, sorted(tmp_path.glob("*.png")), root=tmp_path))
    found = [faces[0] for _, _, faces, _ in results if faces]
    assert len(found) >= 0.8 * len(sources)
    for face in found:
        x, y, w, h = face.box
        assert 20 <= x + w / 2 - 60 <= 172 and 20 <= y + h / 2 - 40 <= 172  # centre inside the pasted face
        assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_run_trained_on_whole_images_predicts_on_the_whole_image_unless_told(stub_detector, tmp_path):
    # the quickstart trains on whole synthetic faces: detecting would feed it crops it never saw
    run = make_run_dir(tmp_path / "whole", face_crop=False)
    stub_detector(lambda image, min_size=20: [(1, 2, 30, 30)])
    image = draw_face(1, "neutral", 96, "rgb")
    assert Predictor.load(run).find_faces(image) == [(0, 0, 96, 96)]
    assert Predictor.load(run, detect=True).find_faces(image) == [(1, 2, 30, 30)]
    assert Predictor.load(make_run_dir(tmp_path / "crops", face_crop=True)).find_faces(image) == [(1, 2, 30, 30)]


@pytest.mark.parametrize(("dataset", "rule", "detects"), [
    ("fer2013", "auto", False),  # nothing downstream knows a dataset's name: the config says detect
    ("synthetic", "auto", False),
    ("synthetic", "detect", True),
    ("fer2013", "whole_image", False),
])
def test_detection_rule_follows_the_run_config(dataset, rule, detects):
    from fer_keras.config import load_config
    from fer_keras.inference.predictor import detects_faces

    config = load_config("quickstart.yaml", [f"data.dataset={dataset}", f"data.face_crop.predict={rule}"])
    assert detects_faces(config) is detects


def test_test_time_flip_averages_with_the_mirrored_face_as_evaluation_does(run_dir):
    from fer_keras.evaluation.predictions import predict_probabilities

    plain = Predictor.load(run_dir, engine="keras")
    flipping = Predictor(plain.model, plain.classes, Preprocessing((48, 48), "grayscale", flip_average=True),
                         engine="keras")
    faces = np.stack([draw_face(seed, label, 48, "grayscale") for seed, label in enumerate(CLASSES_7)])
    expected = (plain.probabilities(faces) + plain.probabilities(faces[:, :, ::-1])) / 2
    np.testing.assert_allclose(flipping.probabilities(faces), expected, atol=1e-6)
    evaluated = predict_probabilities(plain.model, faces, np.arange(7), 4, flip=True)
    np.testing.assert_allclose(evaluated, expected, atol=1e-5)
    assert not np.allclose(expected, plain.probabilities(faces), atol=1e-4)  # the mirror really changes them
