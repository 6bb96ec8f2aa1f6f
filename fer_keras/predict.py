"""``python -m fer_keras.predict [--model RUN_DIR_or_model.keras] INPUT [--out DIR] [--annotate] [--smooth ema]``.

Without --model the bundled FER2013 model predicts (docs/model_card.md).

Predicts the expression of every face in INPUT: an image, a folder of images (searched
recursively), a video file, or a camera index (digits, e.g. 0). Images are prepared as the run
prepared its training images, so predictions match evaluation: a run that cropped faces (or
says data.face_crop.predict: detect, as the FER2013 configs do: their images are face crops)
detects and crops faces with its own settings (data.face_crop in its config.yaml); a run
trained on whole images uses the whole image.
--detect / --no-detect override that. Images with no face get a row with face -1 and
status "no face". Video faces keep an identity across frames (track, by box overlap) and their
probabilities are smoothed over time (--smooth); rows then hold raw prob_<class> and smoothed_prob_<class>.
Rows go to DIR/predictions.csv (or .json), or to standard output without --out.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from itertools import islice
from pathlib import Path

from fer_keras.cli import run_cli

log = logging.getLogger("fer_keras.predict")

IMAGE, FOLDER, VIDEO, CAMERA = "image", "folder", "video", "camera"
WINDOW = "fer_keras"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fer_keras.predict", description=__doc__.split("\n\n")[1])
    parser.add_argument("input", help="an image, a folder of images, a video file, or a camera index (e.g. 0)")
    parser.add_argument("--model", default=None, help="a run directory (config.yaml + model_fold0.keras) or a .keras "
                                                      "file; default: the bundled FER2013 model (docs/model_card.md)")
    parser.add_argument("--out", default=None, help="folder for predictions.csv/json and annotated files; "
                                                    "default: rows to standard output")
    parser.add_argument("--format", choices=("csv", "json"), default="csv", help="output rows as CSV or JSON records")
    parser.add_argument("--annotate", action="store_true",
                        help="write annotated images (DIR/annotated/) or an annotated video (mp4v); needs --out")
    parser.add_argument("--engine", choices=("auto", "tflite", "keras"), default="auto",
                        help="run the model as TFLite (fastest on a CPU) or Keras; auto: TFLite when it converts "
                             "and matches Keras (Keras with a GPU, and for one image until a conversion is cached)")
    detection = parser.add_mutually_exclusive_group()
    detection.add_argument("--detect", dest="detect", action="store_const", const=True, default=None,
                           help="detect and crop faces even if the run trained on whole images")
    detection.add_argument("--no-detect", dest="detect", action="store_const", const=False,
                           help="skip face detection: the whole image is the face")
    parser.add_argument("--smooth", choices=("ema", "window", "none"), default="ema",
                        help="video only: smooth each tracked face's probabilities over time (default ema)")
    parser.add_argument("--alpha", type=float, default=0.6,
                        help="ema: weight kept from the past, 0..1 (higher is smoother, slower); default 0.6")
    parser.add_argument("--window", type=int, default=5, help="window: frames averaged; default 5")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="video/camera: stop after this many frames (a camera otherwise runs until Ctrl-C or q)")
    parser.add_argument("--show", action="store_true",
                        help="show annotated frames in a window when a display exists (q quits)")
    return parser.parse_args(argv)


def input_kind(text: str) -> str:
    """image | folder | video | camera; a one-line error for a missing or unknown input."""
    from fer_keras.data.image_io import is_image_file
    from fer_keras.inference import InferenceError
    from fer_keras.inference.video import VIDEO_EXTENSIONS, is_camera, is_video_file

    if is_camera(text):
        return CAMERA
    path = Path(text)
    if not path.exists():
        raise InferenceError(f"input {text} does not exist; give an image, a folder, a video file or a camera index")
    if path.is_dir():
        return FOLDER
    if is_image_file(path):
        return IMAGE
    if is_video_file(path):
        return VIDEO
    raise InferenceError(
        f"input {text} is not an image (.png .jpg .jpeg .bmp .tif .tiff) or a video ({' '.join(sorted(VIDEO_EXTENSIONS))})"
    )


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


def predict_still(predictor, kind: str, input_path: Path, out: Path | None, annotate_on: bool, viewer: Viewer) -> list[dict]:
    """Rows for an image or a folder of images; annotated copies under ``out/annotated``."""
    import cv2
    from tqdm.auto import tqdm

    from fer_keras.data.image_io import list_images
    from fer_keras.inference.annotate import annotate
    from fer_keras.inference import InferenceError
    from fer_keras.inference.predictor import predict_images

    if kind == FOLDER:
        paths, root = list_images(input_path, recursive=True), input_path
        if not paths:
            raise InferenceError(f"input folder {input_path} holds no image files (.png .jpg .jpeg .bmp .tif .tiff)")
    else:
        paths, root = [input_path], input_path.parent
    rows, started = [], time.perf_counter()
    results = tqdm(predict_images(predictor, paths, root=root), total=len(paths), unit="img",
                   desc="predict", disable=kind != FOLDER)
    for path, image, faces, image_rows in results:
        rows.extend(image_rows)
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
    return rows


def predict_stream(predictor, source: str, out: Path | None, annotate_on: bool, viewer: Viewer,
                   smoother, max_frames: int | None) -> list[dict]:
    """Per-frame rows for a video file or camera, raw and smoothed; an annotated mp4 when asked."""
    import cv2
    from tqdm.auto import tqdm

    from fer_keras.inference.annotate import annotate
    from fer_keras.inference.video import FaceTracker, VideoSource, open_writer, predict_frames, video_rows

    rows, writer, frames_done = [], None, 0
    with VideoSource(source) as video:
        tracker = FaceTracker(smoother=smoother)
        frames = islice(video, max_frames) if max_frames else video
        total = min(filter(None, (video.frame_count, max_frames)), default=None)
        started = time.perf_counter()
        progress = tqdm(predict_frames(predictor, frames, tracker), total=total, unit="frame", desc="predict")
        try:
            for index, frame, faces in progress:
                frames_done = index + 1
                rows.extend(video_rows(video.name, index, video.fps, faces, predictor.classes, smoother is not None))
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
        from fer_keras.inference import InferenceError

        raise InferenceError(f"no frame could be read from {source}")
    log.info("%d frame(s): %.1f frames/s (read, detect, crop, predict, track)", frames_done, frames_done / elapsed)
    return rows


def write_rows(frame, out: Path | None, fmt: str) -> Path | None:
    """Write the rows to ``out/predictions.<fmt>``, or to standard output without ``out``."""
    if fmt == "json":
        text = frame.to_json(orient="records", indent=1)
    else:
        text = frame.to_csv(index=False)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return None
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"predictions.{fmt}"
    temporary = path.with_name(f".tmp_{path.name}")
    temporary.write_text(text)
    temporary.replace(path)
    return path


def predict(argv: list[str] | None = None) -> int:
    """Run prediction on INPUT; write the rows; print a short summary to standard error."""
    args = parse_args(argv)
    from fer_keras.inference import InferenceError

    kind = input_kind(args.input)
    out = Path(args.out) if args.out else None
    if args.annotate and out is None:
        raise InferenceError("--annotate needs --out DIR to write the annotated files into")
    if out is not None:  # before any work: a bad --out must not cost a whole folder or video
        from fer_keras.cli import check_output_dir

        check_output_dir(out, [f"predictions.{args.format}"])
    smoother = None
    if kind in (VIDEO, CAMERA):
        from fer_keras.inference.video import smoother_factory

        smoother = smoother_factory(args.smooth, args.alpha, args.window)
    if kind == IMAGE:
        from fer_keras.data.image_io import read_image

        read_image(args.input)  # an unreadable image fails before the model loads
    from fer_keras.cli import load_tensorflow_quietly

    load_tensorflow_quietly()
    from fer_keras.inference.predictor import NO_FACE, Predictor, rows_frame

    # one image never repays a TFLite conversion: auto then uses only an already cached one
    predictor = Predictor.load(args.model, detect=args.detect, engine=args.engine, convert=kind != IMAGE)
    viewer = Viewer(args.show)
    try:
        if kind in (IMAGE, FOLDER):
            rows = predict_still(predictor, kind, Path(args.input), out, args.annotate, viewer)
        else:
            rows = predict_stream(predictor, args.input, out, args.annotate, viewer, smoother, args.max_frames)
    finally:
        viewer.close()
    frame = rows_frame(rows)
    path = write_rows(frame, out, args.format)
    faces = int((frame["face"] >= 0).sum())
    no_face = int((frame["status"] == NO_FACE).sum())
    unreadable = int(frame["status"].str.startswith("unreadable").sum())
    unit = "frame" if kind in (VIDEO, CAMERA) else "image"
    summary = f"{faces} face(s); {no_face} {unit}(s) with no face"
    if unreadable:
        summary += f"; {unreadable} unreadable"
    print(summary + f"; model engine {predictor.engine}" + (f"; rows: {path}" if path else ""), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(predict, argv)


if __name__ == "__main__":
    sys.exit(main())
