"""Export a model for apps: ``python -m fer_keras.export [--model RUN_DIR_or_model.keras] --out DIR [--formats savedmodel,tflite,tflite_int8dr]``.

Without --model the bundled FER2013 model is exported.

Writes the model as a TensorFlow SavedModel and TFLite files (float32 and dynamic-range
quantised), checks that each one's probabilities match the Keras model's on sample images
(the run's samples.npz, else synthetic faces), and prints each artifact's size, single-image
latency on this machine and largest difference from Keras. DIR/export_info.json records the
input shape (float32 0..255), class order and face-crop settings an app needs.
"""

from __future__ import annotations

import argparse
import logging
import sys

from fer_keras.cli.common import command_parser, run_cli
from fer_keras.output_folder import output_dir
from fer_keras.quiet import load_tensorflow_quietly
from fer_keras.errors import UserError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser("fer_keras.export", __doc__)
    parser.add_argument("--model", default=None, help="a run directory (config.yaml + model_fold0.keras) or a .keras "
                                                      "file; default: the bundled FER2013 model")
    parser.add_argument("--out", required=True, help="folder to write the artifacts into")
    parser.add_argument("--formats", default="savedmodel,tflite,tflite_int8dr",
                        help="comma-separated: savedmodel, tflite (float32), tflite_int8dr (dynamic-range int8)")
    parser.add_argument("--samples", type=int, default=8, help="images the outputs are compared on (at least 1; default 8)")
    parser.add_argument("--force", action="store_true",
                        help="replace artifacts a previous export left in --out (only the files export writes)")
    return parser.parse_args(argv)


def export(argv: list[str] | None = None) -> int:
    """Export, verify and print one line per artifact."""
    args = parse_args(argv)
    from fer_keras.inference.deploy import check_formats

    formats = check_formats(args.formats)  # before TensorFlow loads: a typo fails fast
    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    from fer_keras.inference.deploy import FILE_NAMES

    with output_dir(args.out, [FILE_NAMES[f] for f in formats] + ["export_info.json"], force=args.force) as out:
        load_tensorflow_quietly()
        logging.getLogger("tensorflow").setLevel(logging.WARNING)  # no "Assets written to" lines
        from fer_keras.inference.deploy import export_model, sample_images, single_image_latency, write_export_info
        from fer_keras.inference.predictor import Predictor, find_model_file

        from fer_keras.trained import resolve_model

        source = resolve_model(args.model)
        _, run_dir = find_model_file(source)
        predictor = Predictor.load(source, engine="keras")  # the Keras model is the reference
        images = sample_images(predictor.preprocessing.input_shape, args.samples, run_dir)
        artifacts = export_model(predictor.model, out, formats, images)
        keras_ms = single_image_latency(predictor.probabilities, images[0])
        write_export_info(out, predictor.classes, predictor.preprocessing, artifacts, keras_ms)
        print(f"{'format':<14} {'size':>10} {'latency':>10} {'max |Δ| vs Keras':>17}  path")
        print(f"{'keras':<14} {'':>10} {keras_ms:>8.2f}ms {'':>17}  {source}")
        for a in artifacts:
            print(f"{a.format:<14} {a.size_bytes / 1e6:>8.3f}MB {a.latency_ms:>8.2f}ms {a.max_abs_diff:>17.2e}  {a.path}")
        print(f"compared on {len(images)} images; latency: median single image on this CPU; info: {out / 'export_info.json'}")
        return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(export, argv)


if __name__ == "__main__":
    sys.exit(main())
