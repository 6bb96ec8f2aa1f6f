"""A tiny untrained model saved as a fake run directory, and synthetic test media, for inference tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fer_keras.labels import CLASSES_7


def make_run_dir(folder: Path, classes=CLASSES_7, face_crop: bool = True, seed: int = 0) -> Path:
    """``folder`` as a finished run: config.yaml (quickstart), model_fold0.keras (tiny simple_cnn), metrics.json."""
    import keras

    from fer_keras.config import load_config
    from fer_keras.models import build_model

    from fer_keras.rundir import RunDir

    folder.mkdir(parents=True, exist_ok=True)
    run = RunDir(folder)
    keras.utils.set_random_seed(seed)
    model = build_model("simple_cnn", (48, 48, 1), len(classes), filters=(8, 16), dense_units=16)
    model.save(run.model_path(0))
    config = load_config("quickstart.yaml", [f"data.face_crop.enabled={str(face_crop).lower()}",
                                             "model.name=simple_cnn"])
    run.write_text(run.config_path, config.to_yaml())
    run.write_json(run.metrics_path, {"classes": list(classes), "test_sets": {}})
    return folder


def place(face: np.ndarray, size: tuple[int, int] = (480, 640), at: tuple[int, int] = (200, 120),
          background: int = 90) -> np.ndarray:
    """An RGB frame of ``size`` (height, width) with ``face`` pasted with its top-left corner at ``at`` (x, y)."""
    frame = np.full((*size, 3), background, np.uint8)
    face = face if face.ndim == 3 and face.shape[-1] == 3 else cv2.cvtColor(face.reshape(face.shape[:2]), cv2.COLOR_GRAY2RGB)
    x, y = at
    frame[y:y + face.shape[0], x:x + face.shape[1]] = face
    return frame


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """RGB frames → an mp4v video."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path
