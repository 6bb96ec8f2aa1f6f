"""Predict the expression of every face in an input: ``python -m fer_keras.predict [--model RUN_DIR_or_model.keras] INPUT [--out DIR] [--annotate] [--smooth ema]``.

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
import sys
from pathlib import Path

from fer_keras.cli.common import command_parser, run_cli
from fer_keras.output_folder import output_dir
from fer_keras.quiet import load_tensorflow_quietly
from fer_keras.inference.inputs import Viewer, predict_still, predict_stream
from fer_keras.inference.sources import CAMERA, FOLDER, IMAGE, VIDEO, input_kind


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser("fer_keras.predict", __doc__)
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
    parser.add_argument("--detector", choices=("auto", "haar", "mtcnn"), default=None,
                        help="face detector, in place of the one the model's config names (the bundled model: "
                             "mtcnn, whose crops it was fine-tuned on); haar needs opencv-python-headless<5")
    parser.add_argument("--small-faces", action="store_true",
                        help="mtcnn: also seek faces under a quarter of the image's short side when a larger one is "
                             "found (the full search on every image; slower)")
    parser.add_argument("--smooth", choices=("ema", "window", "none"), default="ema",
                        help="video only: smooth each tracked face's probabilities over time (default ema)")
    parser.add_argument("--alpha", type=float, default=0.6,
                        help="ema: weight kept from the past, 0..1 (higher is smoother, slower); default 0.6")
    parser.add_argument("--window", type=int, default=5, help="window: frames averaged; default 5")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="video/camera: stop after this many frames (a camera otherwise runs until Ctrl-C or q)")
    parser.add_argument("--tf-threads", type=int, default=1, metavar="N",
                        help="TensorFlow threads per operation (default 1: face detection runs many tiny operations, "
                             "for which handing work between threads costs more than it gives; images are read and "
                             "searched on several threads anyway); 0: TensorFlow's default")
    parser.add_argument("--show", action="store_true",
                        help="show annotated frames in a window when a display exists (q quits)")
    return parser.parse_args(argv)


def predict(argv: list[str] | None = None) -> int:
    """Run prediction on INPUT; write the rows; print a short summary to standard error."""
    args = parse_args(argv)
    from fer_keras.errors import InferenceError

    if args.tf_threads < 0:
        raise InferenceError(f"--tf-threads must be 0 (TensorFlow's default) or more, got {args.tf_threads}")
    if args.max_frames is not None and args.max_frames < 1:
        raise InferenceError(f"--max-frames must be at least 1, got {args.max_frames} (leave it out to run until "
                             "the video ends or a camera is stopped)")
    kind = input_kind(args.input)
    out = Path(args.out) if args.out else None
    if args.annotate and out is None:
        raise InferenceError("--annotate needs --out DIR to write the annotated files into")
    if out is None:
        return predict_into(args, kind, None)
    # checked before any work (a bad --out must not cost a whole folder or video), removed if it fails
    with output_dir(out, [f"predictions.{args.format}"]):
        return predict_into(args, kind, out)


def predict_into(args: argparse.Namespace, kind: str, out: Path | None) -> int:
    """The prediction itself, once ``--out`` (if any) is known to be writable."""
    if kind == IMAGE:
        from fer_keras.data.image_io import read_image

        read_image(args.input)  # an unreadable image fails before the model loads
    load_tensorflow_quietly()  # before anything imports Keras, so its start-up lines stay hidden
    smoother = None
    if kind in (VIDEO, CAMERA):
        from fer_keras.inference.video import smoother_factory

        smoother = smoother_factory(args.smooth, args.alpha, args.window)
    if args.tf_threads:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)
        except RuntimeError:  # TensorFlow already ran in this process (predict called from Python): as it is
            pass
    from fer_keras.inference.predictor import Predictor
    from fer_keras.inference.sink import RowSink

    # one image never repays a TFLite conversion: auto then uses only an already cached one
    face_crop = {"detector": args.detector} if args.detector else {}
    if args.small_faces:
        face_crop["first_pass"] = False
    predictor = Predictor.load(args.model, detect=args.detect, engine=args.engine, convert=kind != IMAGE,
                               face_crop=face_crop)
    viewer = Viewer(args.show)
    with RowSink(out, args.format) as sink:
        try:
            if kind in (IMAGE, FOLDER):
                predict_still(predictor, kind, Path(args.input), out, args.annotate, viewer, sink.add)
            else:
                predict_stream(predictor, args.input, out, args.annotate, viewer, smoother, args.max_frames,
                               sink.add)
        except KeyboardInterrupt:  # Ctrl-C in a folder: the rows so far are kept (the video path stops cleanly)
            where = f"kept in {sink.path}" if sink.path else "written"
            raise KeyboardInterrupt(f"{sink.rows} row(s) {where}") from None
        finally:
            viewer.close()
    unit = "frame" if kind in (VIDEO, CAMERA) else "image"
    summary = f"{sink.faces} face(s); {sink.no_face} {unit}(s) with no face"
    if sink.unreadable:
        summary += f"; {sink.unreadable} unreadable"
    path = sink.path
    print(summary + f"; model engine {predictor.engine}" + (f"; rows: {path}" if path else ""), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(predict, argv)


if __name__ == "__main__":
    sys.exit(main())
