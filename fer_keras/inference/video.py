"""Video and camera prediction: frames in, tracked faces with raw and smoothed probabilities out.

Frame-by-frame predictions flicker. Each detected face is matched to a tracked face of the
earlier frames by box overlap (greedy: the highest-IoU pairs first, IoU ≥ ``iou_threshold``,
default 0.3; an unmatched box starts a new track id) and a track not seen for
``max_missed`` frames is dropped. Each track's probabilities are smoothed over time:

- ``ema``: exponential moving average ``s_t = alpha * s_(t-1) + (1 - alpha) * p_t``; ``alpha``
  is how much of the past is kept (0: no smoothing; closer to 1: smoother, slower to react);
- ``window``: the mean of the track's last ``window`` probability vectors;
- ``none``: raw probabilities only.

Still images are never smoothed. Frames come from a video file or a camera index as RGB arrays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fer_keras.data.faces.detect import Box
from fer_keras.labels import PROB_PREFIX
from fer_keras.errors import InferenceError
from fer_keras.inference.sources import is_camera
from fer_keras.inference.predictor import Face, Predictor
from fer_keras.inference.rows import DECIMALS, NO_FACE, OK, face_row

SMOOTHING = ("ema", "window", "none")
IOU_THRESHOLD = 0.3
MAX_MISSED = 15
SMOOTHED_PREFIX = "smoothed_"


class VideoSource:
    """RGB frames from a video file or a camera index; ``frame_count`` is None when unknown."""

    def __init__(self, source: str | int | Path):
        self.name = f"camera:{source}" if is_camera(str(source)) else str(source)
        self.capture = cv2.VideoCapture(int(source) if is_camera(str(source)) else str(source))
        if not self.capture.isOpened():
            what = f"camera {source} (no camera at that index?)" if is_camera(str(source)) else f"video {source}"
            raise InferenceError(f"cannot open {what}")
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 and not is_camera(str(source)) else None

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            ok, frame = self.capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self.capture.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_writer(path: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    """An mp4v ``cv2.VideoWriter`` for frames of ``size`` (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise InferenceError(f"cannot write video {path} (mp4v codec unavailable?)")
    return writer


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter_w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    inter_h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = inter_w * inter_h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


class EmaSmoother:
    """Exponential moving average of probability vectors; ``alpha`` is the weight kept from the past."""

    def __init__(self, alpha: float = 0.6):
        if not 0.0 <= alpha < 1.0:
            raise InferenceError(f"--alpha must be in [0, 1), got {alpha}")
        self.alpha = alpha
        self.state: np.ndarray | None = None

    def __call__(self, probabilities: np.ndarray) -> np.ndarray:
        p = np.asarray(probabilities, np.float64)
        self.state = p.copy() if self.state is None else self.alpha * self.state + (1.0 - self.alpha) * p
        return self.state.copy()


class WindowSmoother:
    """Mean of the last ``size`` probability vectors."""

    def __init__(self, size: int = 5):
        if int(size) < 1:
            raise InferenceError(f"--window must be at least 1, got {size}")
        self.recent: deque[np.ndarray] = deque(maxlen=int(size))

    def __call__(self, probabilities: np.ndarray) -> np.ndarray:
        self.recent.append(np.asarray(probabilities, np.float64))
        return np.mean(self.recent, axis=0)


def smoother_factory(kind: str, alpha: float = 0.6, window: int = 5) -> Callable[[], Callable] | None:
    """A maker of one fresh smoother per track, or None for ``none``."""
    if kind == "ema":
        EmaSmoother(alpha)  # check the setting once, before any frame
        return lambda: EmaSmoother(alpha)
    if kind == "window":
        WindowSmoother(window)
        return lambda: WindowSmoother(window)
    if kind == "none":
        return None
    raise InferenceError(f"--smooth must be one of {', '.join(SMOOTHING)}, got {kind!r}")


@dataclass
class Track:
    """One face followed across frames."""

    id: int
    box: Box
    smoother: Callable | None = None
    missed: int = 0


class FaceTracker:
    """Keeps face identities across frames by greedy box-IoU matching; smooths each track."""

    def __init__(self, iou_threshold: float = IOU_THRESHOLD, max_missed: int = MAX_MISSED,
                 smoother: Callable[[], Callable] | None = None):
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.make_smoother = smoother
        self.tracks: dict[int, Track] = {}
        self.next_id = 0

    def update(self, boxes: list[Box]) -> list[int]:
        """Track ids for this frame's ``boxes`` (in order); ages and drops unmatched tracks."""
        pairs = sorted(
            ((box_iou(track.box, box), track.id, i) for track in self.tracks.values() for i, box in enumerate(boxes)),
            key=lambda pair: pair[0], reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        matched: set[int] = set()
        for iou, track_id, i in pairs:
            if iou < self.iou_threshold:
                break
            if track_id in matched or ids[i] is not None:
                continue
            ids[i] = track_id
            matched.add(track_id)
        for track in list(self.tracks.values()):
            if track.id not in matched:
                track.missed += 1
                if track.missed > self.max_missed:
                    del self.tracks[track.id]
        for i, box in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self.next_id
                smoother = self.make_smoother() if self.make_smoother else None
                self.tracks[self.next_id] = Track(self.next_id, box, smoother)
                self.next_id += 1
            else:
                track = self.tracks[ids[i]]
                track.box, track.missed = box, 0
        return ids

    def smooth(self, track_id: int, probabilities: np.ndarray) -> np.ndarray:
        """The track's smoothed probabilities after adding this frame's (raw when not smoothing)."""
        smoother = self.tracks[track_id].smoother
        return smoother(probabilities) if smoother is not None else np.asarray(probabilities, np.float64)


@dataclass
class TrackedFace(Face):
    """A face in a video frame: its track id and smoothed probabilities beside the raw ones."""

    track: int = -1
    smoothed: np.ndarray = field(default_factory=lambda: np.zeros(0))


def track_faces(faces: list[Face], tracker: FaceTracker) -> list[TrackedFace]:
    """Give this frame's faces their track ids and smoothed probabilities."""
    ids = tracker.update([face.box for face in faces])
    return [TrackedFace(face.box, face.probabilities, track_id, tracker.smooth(track_id, face.probabilities))
            for face, track_id in zip(faces, ids)]


def predict_frames(predictor: Predictor, frames: Iterable[np.ndarray], tracker: FaceTracker
                   ) -> Iterator[tuple[int, np.ndarray, list[TrackedFace]]]:
    """(frame index, RGB frame, tracked faces) for each frame."""
    for index, frame in enumerate(frames):
        yield index, frame, track_faces(predictor.predict(frame), tracker)


def video_rows(source: str, index: int, fps: float, faces: list[TrackedFace], classes: list[str],
               smoothed: bool) -> list[dict]:
    """Rows for one frame: per face raw (``prob_``) and, when smoothing, ``smoothed_`` columns."""
    if not faces:
        rows = [_frame_row(source, index, fps, -1, None, classes, smoothed)]
    else:
        rows = [_frame_row(source, index, fps, i, face, classes, smoothed) for i, face in enumerate(faces)]
    return rows


def _frame_row(source: str, index: int, fps: float, position: int, face: TrackedFace | None,
               classes: list[str], smoothed: bool) -> dict:
    row = face_row(source, index, position, face, classes, OK if face is not None else NO_FACE)
    row = {"source": row.pop("source"), "frame": row.pop("frame"), "time_s": round(index / fps, 4),
           "face": row.pop("face"), "track": face.track if face is not None else None, **row}
    if smoothed:
        values = face.smoothed if face is not None else None
        top = int(np.argmax(values)) if values is not None else None
        row[f"{SMOOTHED_PREFIX}label"] = classes[top] if values is not None else None
        row[f"{SMOOTHED_PREFIX}confidence"] = round(float(values[top]), DECIMALS) if values is not None else None
        row.update({f"{SMOOTHED_PREFIX}{PROB_PREFIX}{name}": (round(float(values[i]), DECIMALS) if values is not None else None)
                    for i, name in enumerate(classes)})
    return row
