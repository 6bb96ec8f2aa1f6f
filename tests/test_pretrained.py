"""The bundled FER2013 model: predict without --model, the one-liner, export, init_from: pretrained."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import fer_keras
from fer_keras import pretrained
from fer_keras.data.readers.synthetic import draw_face
from fer_keras.errors import UserError
from fer_keras.inference import predictor as predictor_module
from fer_keras.labels import CLASSES_7
from tests.inference.fakes import place

#: The issue's size limit for the shipped .keras + its TFLite twin.
MAX_BUNDLE_BYTES = 10 * 1024 * 1024
FACE_BOX = (230, 130, 150, 150)


@pytest.fixture(scope="module")
def predictor():
    return fer_keras.load_pretrained()


@pytest.fixture
def photo(tmp_path):
    """A 640x480 picture with one drawn face where the fixed detector finds it."""
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), cv2.cvtColor(place(draw_face(3, "happiness", 160, "rgb"), at=(225, 125)), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def fixed_detector(stub_detector):
    stub_detector(
                        lambda image, min_size=20: [FACE_BOX] if image.shape[:2] == (480, 640) else [])


def test_bundle_is_complete_small_and_free_of_dataset_images():
    names = sorted(p.name for p in pretrained.BUNDLED_DIR.iterdir() if not p.name.startswith("."))
    assert names == ["config.yaml", "metrics.json", "model_fold0.keras", "model_fold0.tflite"]
    size = sum((pretrained.BUNDLED_DIR / n).stat().st_size for n in ("model_fold0.keras", "model_fold0.tflite"))
    assert size <= MAX_BUNDLE_BYTES
    assert json.loads((pretrained.BUNDLED_DIR / "metrics.json").read_text())["classes"] == list(CLASSES_7)
    config = (pretrained.BUNDLED_DIR / "config.yaml").read_text()
    assert "shared/datasets" not in config and "root: path/to/FER2013" in config  # no maintainer's path ships
    assert "root: /" not in config and "init_from: /" not in config


def test_one_liner_returns_the_predictor_the_cli_uses(predictor):
    assert isinstance(predictor, predictor_module.Predictor)
    assert predictor.classes == list(CLASSES_7)
    assert predictor.preprocessing.input_shape == (48, 48, 1)
    assert predictor.detect  # the bundled config says its faces are crops: photos are detected and cropped
    image = place(draw_face(5, "surprise", 160, "rgb"), at=(225, 125))
    faces = predictor.predict(image)
    assert faces, "the drawn face is found by the real detector"
    assert faces[0].probabilities.shape == (7,) and abs(faces[0].probabilities.sum() - 1) < 1e-5


def test_bundled_keras_and_its_tflite_twin_predict_the_same():
    keras_predictor = fer_keras.load_pretrained(engine="keras")
    tflite_predictor = fer_keras.load_pretrained(engine="tflite")
    faces = np.stack([draw_face(seed, label, 48, "grayscale") for seed, label in enumerate(CLASSES_7)])
    difference = np.abs(keras_predictor.probabilities(faces) - tflite_predictor.probabilities(faces)).max()
    assert difference <= 1e-4
    # the shipped twin is the file used: no conversion is cached beside the package's model
    assert not (pretrained.BUNDLED_DIR / ".tflite_cache").exists()


def test_predict_without_model_uses_the_bundled_one(photo, fixed_detector, capsys):
    from fer_keras.cli.predict import main

    assert main([str(photo)]) == 0
    captured = capsys.readouterr()
    header, row = captured.out.strip().splitlines()
    assert "prob_happiness" in header
    values = dict(zip(header.split(","), row.split(",")))
    assert values["label"] in CLASSES_7 and values["status"] == "ok"
    assert abs(sum(float(values[f"prob_{c}"]) for c in CLASSES_7) - 1) < 1e-4


def test_export_without_model_exports_the_bundled_one(tmp_path, capsys):
    from fer_keras.cli.export import main

    assert main(["--out", str(tmp_path / "out"), "--formats", "tflite", "--samples", "2"]) == 0
    info = json.loads((tmp_path / "out" / "export_info.json").read_text())
    assert info["classes"] == list(CLASSES_7)


def test_init_from_pretrained_names_the_bundled_model():
    from fer_keras.models.from_run import load_trained_model, trained_model_path

    assert trained_model_path("pretrained") == pretrained.BUNDLED_MODEL
    model, rebuilt, own = load_trained_model("pretrained", ["happiness", "sadness"], (48, 48, 1), "head")
    assert rebuilt and own == list(CLASSES_7) and model.output_shape[-1] == 2
    assert [layer.name for layer in model.layers if layer.trainable] == ["predictions"]


def test_missing_bundle_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr("fer_keras.trained.BUNDLED_MODEL", tmp_path / "gone.keras")
    with pytest.raises(UserError, match="bundled FER2013 model is missing"):
        fer_keras.load_pretrained()


def test_bundled_model_detects_with_mtcnn_on_every_machine(tmp_path):
    """The shipped config names mtcnn (its second stage trained on MTCNN crops; with Haar the posed photos lose
    12 points on KDEF): OpenCV 4 and 5 predict alike; ``--detector`` / ``detector=`` still picks another."""
    import yaml

    from fer_keras.config import load_config
    from fer_keras.data.faces.detect import detector_name
    from fer_keras.errors import InferenceError
    from fer_keras.inference.predictor import Predictor

    raw = yaml.safe_load((pretrained.BUNDLED_DIR / "config.yaml").read_text())
    assert raw["data"]["face_crop"]["detector"] == "mtcnn"
    assert detector_name(load_config(pretrained.BUNDLED_DIR / "config.yaml").data.face_crop) == "mtcnn"
    chosen = Predictor.load(None, engine="keras", face_crop={"detector": "haar"})
    assert chosen.preprocessing.face_crop.detector == "haar" and chosen.preprocessing.flip_average
    assert Predictor.load(None, engine="keras").preprocessing.face_crop.detector == "mtcnn"
    with pytest.raises(InferenceError, match="face_crop .*detector"):
        Predictor.load(None, engine="keras", face_crop={"detector": "yunet"})


def test_the_own_data_config_fine_tunes_the_bundled_model(tmp_path):
    """finetune_own_folder.yaml as shipped (init_from: pretrained) trains from the bundled weights on a folder."""
    import keras

    from fer_keras.config import load_config
    from fer_keras.data.readers.synthetic import make_synthetic_faces, write_class_folders
    from fer_keras.training.experiment import run_experiment

    mine = make_synthetic_faces(n_subjects=6, images_per_class=2, image_size=48, seed=5,
                                classes=["happiness", "sadness", "neutral"])
    write_class_folders(mine, tmp_path / "my_faces")
    config = load_config("finetune_own_folder.yaml", [
        f"data.root={tmp_path / 'my_faces'}", "data.face_crop.enabled=false", "training.epochs=1",
        "runtime.verbose=0", "report.sample_predictions=0"])
    assert config.model.init_from == "pretrained"
    run = run_experiment(config, run_dir=tmp_path / "own")
    tuned = keras.models.load_model(run / "model_fold0.keras")
    bundled = keras.models.load_model(pretrained.BUNDLED_MODEL)
    assert tuned.name == bundled.name == "compact_cnn" and tuned.output_shape[-1] == 3
    # the convolutions started from the bundled weights (one epoch moves them only a little)
    start, after = bundled.get_layer("conv1_1").get_weights()[0], tuned.get_layer("conv1_1").get_weights()[0]
    assert np.corrcoef(start.ravel(), after.ravel())[0, 1] > 0.9
    assert sorted(json.loads((run / "metrics.json").read_text())["classes"]) == ["happiness", "neutral", "sadness"]


def test_bundling_replaces_every_machine_path_of_the_run_config():
    """A two-stage recipe's run names extra training sets and its starting run: none of their paths ships."""
    import yaml

    from fer_keras.config import ExperimentConfig, load_config
    from fer_keras.pretrained.bundle import placeholders

    raw = load_config("fer2013_bundled_posed.yaml", [
        "data.root=/home/me/FER2013", "model.init_from=/home/me/runs/stage1",
        "train_extra.0.root=/home/me/CK+48", "train_extra.1.root=/home/me/JAFFE", "train_extra.2.root=/home/me/KDEF",
    ]).model_dump(mode="json")
    from fer_keras.config import apply_override

    for item in placeholders(raw):
        apply_override(raw, item)
    ExperimentConfig.model_validate(raw)
    text = yaml.safe_dump(raw)
    assert "/home/me" not in text
    assert [e["root"] for e in raw["train_extra"]] == ["path/to/CK+48", "path/to/JAFFE", "path/to/KDEF"]
    assert raw["model"]["init_from"] == "path/to/the_starting_run" and raw["data"]["root"] == "path/to/FER2013"


def test_the_bundled_model_averages_each_face_with_its_mirror_image(predictor):
    """The shipped config turns test-time flip on: a face crop and its mirror image get the same probabilities."""
    assert predictor.preprocessing.flip_average
    crops = predictor_module.Predictor.load(pretrained.BUNDLED_DIR, detect=False)  # the whole image is the face
    face = draw_face(3, "happiness", 48, "grayscale")
    (one,) = crops.predict(face)
    (mirrored,) = crops.predict(np.ascontiguousarray(face[:, ::-1]))
    assert np.allclose(one.probabilities, mirrored.probabilities, atol=1e-5)
