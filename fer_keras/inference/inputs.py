"""Predict on each kind of input (an image, a folder, a video file, a camera) into prediction rows.

The work behind ``python -m fer_keras.predict`` (what an input is: :mod:`fer_keras.inference.sources`): stills and
folders (:func:`predict_still`: faces of a folder batched into the model), streams
(:func:`predict_stream`: tracked and smoothed faces, an annotated mp4), an optional window
(:class:`Viewer`); the rows go to a :class:`~fer_keras.inference.sink.RowSink` as they are made.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from itertools import islice
from pathlib import Path

from fer_keras.inference.sources import FOLDER

log = logging.getLogger("fer_keras.predict")

WINDOW = "fer_keras"


def display_problem() -> str | None:
    """Why no window can be shown here, or None when one can."""
    import cv2

    gui = re.search(r"GUI:\s*(\S+)", cv2.getBuildInformation())
    if gui and gui.group(1).upper() == "NONE":
        return "this OpenCV build has no GUI (opencv-python-headless)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display ($DISPLAY is not set)"
    return None


class Viewer:
    """Shows RGB frames with cv2.imshow; ``wanted`` is False when there is nothing to show on."""

    def __init__(self, wanted: bool):
        problem = display_problem() if wanted else None
        if problem:
            log.warning("--show ignored: %s", problem)
        self.on = wanted and problem is None

    def show(self, image, wait_ms: int = 1) -> bool:
        """Display ``image``; False when the user pressed q (or closed the window)."""
        import cv2

        cv2.imshow(WINDOW, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(wait_ms) & 0xFF) != ord("q")

    def close(self) -> None:
        if self.on:
            import cv2

            cv2.destroyAllWindows()


def predict_still(predictor, kind: str, input_path: Path, out: Path | None, annotate_on: bool, viewer: Viewer,
                  emit) -> int:
    """Rows for an image or a folder of images, handed to ``emit`` image by image as they are made;
    annotated copies under ``out/annotated``. Returns the number of images."""
    import cv2
    from tqdm.auto import tqdm

    from fer_keras.data.readers.helpers import list_images
    from fer_keras.inference.annotate import annotate
    from fer_keras.errors import InferenceError
    from fer_keras.inference.rows import predict_images

    if kind == FOLDER:
        paths, root = list_images(input_path, recursive=True), input_path
        if out is not None:  # --out inside the folder: its own annotated copies are not new input
            inside = out.resolve()
            paths = [p for p in paths if not p.resolve().is_relative_to(inside)]
        if not paths:
            raise InferenceError(f"input folder {input_path} holds no image files (.png .jpg .jpeg .bmp .tif .tiff)")
    else:
        paths, root = [input_path], input_path.parent
    started = time.perf_counter()
    results = tqdm(predict_images(predictor, paths, root=root), total=len(paths), unit="img",
                   desc="predict", disable=kind != FOLDER)
    for path, image, faces, image_rows in results:
        emit(image_rows)
        if image is None or not (annotate_on or viewer.on):
            continue
        drawn = annotate(image, [f.box for f in faces], [f.probabilities for f in faces], predictor.classes,
                         note=None if faces else "no face")
        if annotate_on:
            target = out / "annotated" / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(target), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR)):
                cv2.imwrite(str(target.with_suffix(".png")), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        if viewer.on and not viewer.show(drawn, wait_ms=0):
            break
    elapsed = time.perf_counter() - started
    log.info("%d image(s): %.1f ms per image (read, detect, crop, predict)", len(paths), 1000 * elapsed / len(paths))
    return len(paths)


def predict_stream(predictor, source: str, out: Path | None, annotate_on: bool, viewer: Viewer,
                   smoother, max_frames: int | None, emit) -> int:
    """Per-frame rows for a video file or camera, raw and smoothed, handed to ``emit`` frame by frame (none
    is kept in memory: a camera may run for hours); an annotated mp4 when asked. Returns the frames read."""
    import cv2
    from tqdm.auto import tqdm

    from fer_keras.inference.annotate import annotate
    from fer_keras.inference.video import FaceTracker, VideoSource, open_writer, predict_frames, video_rows

    writer, frames_done = None, 0
    with VideoSource(source) as video:
        tracker = FaceTracker(smoother=smoother)
        frames = islice(video, max_frames) if max_frames else video
        total = min(filter(None, (video.frame_count, max_frames)), default=None)
        started = time.perf_counter()
        progress = tqdm(predict_frames(predictor, frames, tracker), total=total, unit="frame", desc="predict")
        try:
            for index, frame, faces in progress:
                frames_done = index + 1
                emit(video_rows(video.name, index, video.fps, faces, predictor.classes, smoother is not None))
                if not (annotate_on or viewer.on):
                    continue
                shown = [f.smoothed if smoother is not None else f.probabilities for f in faces]
                titles = [f"#{f.track} {predictor.classes[p.argmax()]} {p.max():.2f}" for f, p in zip(faces, shown)]
                drawn = annotate(frame, [f.box for f in faces], shown, predictor.classes, titles=titles)
                if annotate_on:
                    if writer is None:
                        stem = Path(video.name.replace(":", "")).stem
                        writer = open_writer(out / f"{stem}_annotated.mp4", video.fps, (drawn.shape[1], drawn.shape[0]))
                    writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
                if viewer.on and not viewer.show(drawn):
                    break
        except KeyboardInterrupt:
            log.info("stopped after %d frames", frames_done)
        finally:
            progress.close()
            if writer is not None:
                writer.release()
        elapsed = time.perf_counter() - started
    if frames_done == 0:
        from fer_keras.errors import InferenceError

        raise InferenceError(f"no frame could be read from {source}")
    log.info("%d frame(s): %.1f frames/s (read, detect, crop, predict, track)", frames_done, frames_done / elapsed)
    return frames_done
