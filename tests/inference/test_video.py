"""Video: frame reading, IoU tracking, EMA / window smoothing, and flicker removal on a synthetic video."""

from __future__ import annotations

import numpy as np
import pytest

from fer_keras.data.readers.synthetic import draw_face
from fer_keras.errors import InferenceError
from fer_keras.inference.predictor import Predictor, Preprocessing
from fer_keras.inference.video import (
    EmaSmoother, FaceTracker, VideoSource, WindowSmoother, box_iou, is_camera, predict_frames, smoother_factory,
    video_rows,
)
from fer_keras.labels import CLASSES_7
from tests.markers import requires_haar
from tests.inference.fakes import place, write_video

FRAMES, CHANGE = 40, 20
BACKGROUND = 90
BEFORE, AFTER = "happiness", "surprise"
#: Frames where the stub model gets the expression wrong, around the change.
FLICKER = {16, 18, 22, 24}


@pytest.fixture(scope="module")
def expression_video(tmp_path_factory):
    """One synthetic person, happy for 20 frames then surprised, drifting right 1 px a frame."""
    frames = [
        place(draw_face(np.random.default_rng(7), BEFORE if i < CHANGE else AFTER, 128, "rgb"),
              size=(240, 320), at=(80 + i, 50), background=BACKGROUND)
        for i in range(FRAMES)
    ]
    return write_video(tmp_path_factory.mktemp("video") / "change.mp4", frames)


@pytest.fixture(scope="module")
def tiny_predictor():
    from fer_keras.models import build_model

    model = build_model("simple_cnn", (48, 48, 1), 7, filters=(8, 16), dense_units=16)
    return Predictor(model, list(CLASSES_7), Preprocessing((48, 48), "grayscale"))


def flickering_probabilities(predictor: Predictor):
    """A stub for ``predictor.probabilities``: the shown expression at 0.8, but wrong (0.65) on FLICKER frames."""
    calls = iter(range(10_000))
    before, after = CLASSES_7.index(BEFORE), CLASSES_7.index(AFTER)

    def probabilities(inputs):
        frame = next(calls)
        right, wrong = (before, after) if frame < CHANGE else (after, before)
        p = np.zeros((len(inputs), 7))
        p[:, right], p[:, wrong] = (0.35, 0.65) if frame in FLICKER else (0.8, 0.2)
        return p

    return probabilities


def picture_box(image, min_size=20):
    """A stub detector that works on the frame itself: the box of what differs from the plain background."""
    differs = np.abs(image.astype(int) - BACKGROUND).max(axis=-1) > 30
    rows, cols = np.flatnonzero(differs.mean(axis=1) > 0.3), np.flatnonzero(differs.mean(axis=0) > 0.3)
    if not len(rows) or not len(cols):
        return []
    return [(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))]


def switches(labels: list[str]) -> int:
    return sum(a != b for a, b in zip(labels, labels[1:]))


def test_video_source_reads_rgb_frames(tmp_path):
    frame = np.zeros((64, 96, 3), np.uint8)
    frame[..., 0] = 220  # red in RGB
    path = write_video(tmp_path / "red.mp4", [frame] * 3, fps=12)
    with VideoSource(path) as video:
        frames = list(video)
        assert video.fps == pytest.approx(12) and video.frame_count == 3 and video.name == str(path)
    assert len(frames) == 3 and frames[0].shape == (64, 96, 3)
    assert frames[0][..., 0].mean() > 180 and frames[0][..., 2].mean() < 60


def test_unopenable_video_and_camera_raise(tmp_path):
    (tmp_path / "fake.mp4").write_bytes(b"nothing")
    with pytest.raises(InferenceError, match="cannot open video"):
        VideoSource(tmp_path / "fake.mp4")
    assert is_camera("0") and is_camera("12") and not is_camera("clip.mp4")
    with pytest.raises(InferenceError, match="cannot open camera 97"):
        VideoSource("97")


def test_box_iou():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_ema_and_window_smoothers():
    ema = EmaSmoother(0.6)
    first, second = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(ema(first), first)
    np.testing.assert_allclose(ema(second), [0.6, 0.4])
    window = WindowSmoother(2)
    window(first)
    np.testing.assert_allclose(window(second), [0.5, 0.5])
    np.testing.assert_allclose(window(second), second)  # the first vector has left the window


@pytest.mark.parametrize("kind, alpha, window", [("ema", 1.0, 5), ("ema", -0.1, 5), ("window", 0.6, 0), ("median", 0.6, 5)])
def test_bad_smoothing_settings_raise(kind, alpha, window):
    with pytest.raises(InferenceError):
        smoother_factory(kind, alpha, window)


def test_tracker_follows_a_moving_face_and_separates_a_far_one():
    tracker = FaceTracker(max_missed=2)
    ids = [tracker.update([(100 + 8 * i, 50, 100, 100)])[0] for i in range(10)]
    assert ids == [0] * 10
    assert tracker.update([(180, 50, 100, 100), (500, 300, 90, 90)]) == [0, 1]
    assert tracker.update([(505, 300, 90, 90), (182, 52, 100, 100)]) == [1, 0]  # order of boxes does not matter


def test_tracker_drops_tracks_unseen_too_long():
    tracker = FaceTracker(max_missed=2)
    assert tracker.update([(0, 0, 50, 50)]) == [0]
    for _ in range(2):
        tracker.update([])
    assert tracker.update([(0, 0, 50, 50)]) == [0]  # missed 2 frames: still known
    for _ in range(3):
        tracker.update([])
    assert tracker.update([(0, 0, 50, 50)]) == [1]  # missed 3 > 2: a new identity


def test_tracks_are_smoothed_separately():
    tracker = FaceTracker(smoother=smoother_factory("ema", 0.5))
    a, b = tracker.update([(0, 0, 50, 50), (200, 0, 50, 50)])
    tracker.smooth(a, np.array([1.0, 0.0]))
    np.testing.assert_allclose(tracker.smooth(b, np.array([0.0, 1.0])), [0.0, 1.0])
    np.testing.assert_allclose(tracker.smooth(a, np.array([0.0, 1.0])), [0.5, 0.5])


@pytest.mark.parametrize("kind", ["ema", "window"])
def test_smoothing_removes_flicker_on_a_synthetic_video(stub_detector, kind, expression_video, tiny_predictor, monkeypatch):
    """Raw labels flicker around the expression change; smoothed labels switch exactly once, just after it.

    The face box comes from a stub detector reading the frame (the Haar cascade is tested on real faces).
    """
    stub_detector(picture_box)
    monkeypatch.setattr(tiny_predictor, "probabilities", flickering_probabilities(tiny_predictor))
    tracker = FaceTracker(smoother=smoother_factory(kind, alpha=0.6, window=5))
    rows = []
    with VideoSource(expression_video) as video:
        for index, _, faces in predict_frames(tiny_predictor, video, tracker):
            rows.extend(video_rows(video.name, index, video.fps, faces, tiny_predictor.classes, smoothed=True))
    assert len(rows) == FRAMES and all(r["status"] == "ok" for r in rows)  # a face found in every frame
    assert {r["track"] for r in rows} == {0}  # one identity while the face drifts
    assert rows[-1]["x"] - rows[0]["x"] == pytest.approx(FRAMES - 1, abs=3)  # the box follows the drift
    raw = [r["label"] for r in rows]
    smooth = [r["smoothed_label"] for r in rows]
    assert switches(raw) >= 6
    assert switches(smooth) == 1
    assert smooth[0] == BEFORE and smooth[-1] == AFTER
    assert CHANGE <= smooth.index(AFTER) <= CHANGE + 3
    for row in rows:
        smoothed = [row[f"smoothed_prob_{c}"] for c in CLASSES_7]
        assert sum(smoothed) == pytest.approx(1.0)


@requires_haar
def test_real_detection_follows_a_face_across_frames(tiny_predictor, tmp_path):
    """The Haar cascade (faces from 240 // 8 = 30 px up, on a shrunk copy) finds the face in every frame."""
    from fer_keras.data.faces.detect import smallest_face

    frames = [place(draw_face(np.random.default_rng(7), BEFORE, 128, "rgb"), size=(240, 320), at=(80 + 2 * i, 50),
                    background=BACKGROUND) for i in range(8)]
    tracker = FaceTracker(smoother=smoother_factory("ema"))
    with VideoSource(write_video(tmp_path / "happy.mp4", frames)) as video:
        found = [faces for _, _, faces in predict_frames(tiny_predictor, video, tracker)]
    assert [len(faces) for faces in found] == [1] * 8
    assert {faces[0].track for faces in found} == {0}
    boxes = [faces[0].box for faces in found]
    assert boxes[-1][0] - boxes[0][0] == pytest.approx(14, abs=4)  # the box follows the 2 px/frame drift
    assert all(min(box[2:]) >= smallest_face((240, 320)) for box in boxes)
    assert all(box_iou(box, (80 + 2 * i, 50, 128, 128)) > 0.6 for i, box in enumerate(boxes))


def test_rows_for_frames_without_faces_and_without_smoothing():
    rows = video_rows("v.mp4", 3, 10.0, [], list(CLASSES_7), smoothed=True)
    assert rows[0]["face"] == -1 and rows[0]["status"] == "no face" and rows[0]["time_s"] == 0.3
    assert rows[0]["smoothed_label"] is None
    assert not any(k.startswith("smoothed") for k in video_rows("v.mp4", 0, 10.0, [], ["a"], smoothed=False)[0])
