"""``python -m fer_keras.predict``: images, folders and videos to CSV/JSON, annotated output, one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_keras.data.readers.synthetic import draw_face
from fer_keras.cli.predict import main
from tests.markers import REPO
from tests.inference.fakes import make_run_dir, place, write_video

FACE_BOX = (230, 130, 150, 150)
VIDEO_FRAMES = 12


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run_dir(tmp_path_factory.mktemp("run"))


@pytest.fixture
def fixed_detector(stub_detector):
    """Detection that finds FACE_BOX in 480x640 pictures and nothing in other images."""
    stub_detector(
                        lambda image, min_size=20: [FACE_BOX] if image.shape[:2] == (480, 640) else [])


@pytest.fixture
def folder(tmp_path):
    """Two face pictures (one in a sub-folder) and one image without a face."""
    root = tmp_path / "images"
    (root / "b").mkdir(parents=True)
    for name, label in (("a.png", "happiness"), ("b/c.jpg", "sadness")):
        picture = place(draw_face(len(name), label, 160, "rgb"), at=(225, 125))
        cv2.imwrite(str(root / name), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(root / "wall.png"), np.full((90, 90, 3), 200, np.uint8))
    return root


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    frames = [place(draw_face(np.random.default_rng(4), "surprise", 160, "rgb"), at=(220 + 2 * i, 120))
              for i in range(VIDEO_FRAMES)]
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4", frames)


def test_folder_to_csv_with_no_face_row_and_annotations(run_dir, folder, fixed_detector, tmp_path):
    out = tmp_path / "out"
    assert main(["--model", str(run_dir), str(folder), "--out", str(out), "--annotate"]) == 0
    frame = pd.read_csv(out / "predictions.csv").set_index("source")
    assert sorted(frame.index) == ["a.png", "b/c.jpg", "wall.png"]
    assert frame.loc["wall.png", "face"] == -1 and frame.loc["wall.png", "status"] == "no face"
    assert tuple(frame.loc["a.png", ["x", "y", "w", "h"]]) == FACE_BOX
    probs = frame.filter(like="prob_").loc[["a.png", "b/c.jpg"]]
    assert list(probs.columns) == [f"prob_{c}" for c in ("anger", "disgust", "fear", "happiness", "sadness",
                                                         "surprise", "neutral")]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    annotated = cv2.imread(str(out / "annotated" / "a.png"))
    assert annotated is not None and min(annotated.shape[:2]) >= 320
    original = cv2.imread(str(folder / "a.png"))
    assert (annotated != original).any()  # box, text and bars were drawn
    assert (out / "annotated" / "b" / "c.jpg").is_file() and (out / "annotated" / "wall.png").is_file()


def test_single_image_json_to_stdout(run_dir, folder, fixed_detector, capsys):
    assert main(["--model", str(run_dir / "model_fold0.keras"), str(folder / "a.png"), "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert len(rows) == 1 and rows[0]["source"] == "a.png" and rows[0]["face"] == 0
    probabilities = {k.removeprefix("prob_"): v for k, v in rows[0].items() if k.startswith("prob_")}
    assert len(probabilities) == 7 and sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert rows[0]["label"] == max(probabilities, key=probabilities.get)
    assert rows[0]["confidence"] == pytest.approx(max(probabilities.values()))
    assert "1 face(s)" in captured.err


def test_keras_and_tflite_engines_give_the_same_rows(run_dir, folder, fixed_detector, capsys):
    probabilities = {}
    for engine in ("keras", "tflite"):
        assert main(["--model", str(run_dir), str(folder / "a.png"), "--format", "json", "--engine", engine]) == 0
        (row,) = json.loads(capsys.readouterr().out)
        probabilities[engine] = [row[k] for k in sorted(row) if k.startswith("prob_")]
    np.testing.assert_allclose(probabilities["tflite"], probabilities["keras"], atol=1e-5)


def test_auto_engine_on_one_image_uses_keras_until_a_conversion_is_cached(run_dir, folder, tmp_path, capsys):
    import shutil

    run = shutil.copytree(run_dir, tmp_path / "run", ignore=shutil.ignore_patterns(".tflite_cache"))
    assert main(["--model", str(run), str(folder / "a.png")]) == 0
    assert "model engine keras" in capsys.readouterr().err and not (run / ".tflite_cache").exists()
    assert main(["--model", str(run), str(folder)]) == 0  # a folder converts and caches
    assert "model engine tflite" in capsys.readouterr().err and list((run / ".tflite_cache").glob("*.tflite"))
    assert main(["--model", str(run), str(folder / "a.png")]) == 0
    assert "model engine tflite" in capsys.readouterr().err


def test_no_detect_uses_whole_image(run_dir, folder, capsys):
    assert main(["--model", str(run_dir), str(folder / "wall.png"), "--no-detect"]) == 0
    row = pd.read_csv(io.StringIO(capsys.readouterr().out)).iloc[0]
    assert row["status"] == "ok" and (row["x"], row["y"], row["w"], row["h"]) == (0, 0, 90, 90)


def test_video_rows_raw_and_smoothed_and_annotated_video(run_dir, video, fixed_detector, tmp_path):
    out = tmp_path / "out"
    assert main(["--model", str(run_dir), str(video), "--out", str(out), "--annotate", "--smooth", "window"]) == 0
    frame = pd.read_csv(out / "predictions.csv")
    assert list(frame["frame"]) == list(range(VIDEO_FRAMES)) and set(frame["track"]) == {0}
    raw, smoothed = frame.filter(regex="^prob_").to_numpy(), frame.filter(regex="^smoothed_prob_").to_numpy()
    assert raw.shape == smoothed.shape == (VIDEO_FRAMES, 7)
    np.testing.assert_allclose(smoothed[2], raw[:3].mean(axis=0), atol=1e-4)  # window average of frames 0..2 (rows: 4 decimals)
    capture = cv2.VideoCapture(str(out / "clip_annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == VIDEO_FRAMES
    capture.release()


def test_video_without_smoothing_has_raw_columns_only(run_dir, video, fixed_detector, capsys):
    assert main(["--model", str(run_dir), str(video), "--smooth", "none", "--max-frames", "3"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) == 3 and not any(c.startswith("smoothed") for c in frame.columns)


def test_show_without_display_says_so_and_continues(run_dir, folder, fixed_detector, caplog, capsys):
    assert main(["--model", str(run_dir), str(folder / "a.png"), "--show"]) == 0
    assert "--show ignored" in caplog.text


@pytest.mark.parametrize("args, message", [
    (["{run}", "{tmp}/missing.png"], "error: input"),
    (["{tmp}", "{tmp}/picture.png"], "error: --model"),
    (["{tmp}/picture.png", "{tmp}/picture.png"], "neither a run directory nor a .keras file"),
    (["{run}", "{tmp}/notes.txt"], "is not an image"),
    (["{run}", "{tmp}/broken.png"], "broken.png: truncated"),
    (["{run}", "{tmp}/picture.png", "--annotate"], "--annotate needs --out"),
    (["{run}", "{tmp}/empty"], "holds no image files"),
    (["{run}", "{tmp}/picture.png", "--alpha", "2"], None),  # alpha is only checked for videos
])
def test_bad_inputs_give_one_error_line(run_dir, tmp_path, capsys, args, message):
    cv2.imwrite(str(tmp_path / "picture.png"), np.full((60, 60), 100, np.uint8))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (tmp_path / "empty").mkdir()
    argv = [a.format(run=run_dir, tmp=tmp_path) for a in args]
    code = main(["--model", *argv])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0
        return
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and message in lines[0] and "Traceback" not in err


def test_bad_smoothing_for_video_is_an_error(run_dir, video, capsys):
    assert main(["--model", str(run_dir), str(video), "--alpha", "1.5"]) == 2
    assert "--alpha must be in [0, 1)" in capsys.readouterr().err


def test_module_entry_point_reports_missing_input(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fer_keras.predict", "--model", str(tmp_path), "nope.jpg"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: input nope.jpg does not exist; give an image, a folder, a video file or a camera index")


def test_detector_and_small_faces_reach_the_predictor(monkeypatch, tmp_path):
    """--detector and --small-faces replace the model's face_crop settings (checked as a config is)."""
    from fer_keras.inference import predictor as predictor_module

    seen = {}

    def load(path, detect=None, engine="auto", convert=True, face_crop=None):
        seen.update(face_crop or {})
        raise predictor_module.InferenceError("stop here")

    monkeypatch.setattr(predictor_module.Predictor, "load", staticmethod(load))
    image = tmp_path / "a.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(image), np.full((64, 64, 3), 128, np.uint8))
    assert main([str(image), "--detector", "haar", "--small-faces"]) == 2
    assert seen == {"detector": "haar", "first_pass": False}
