"""Maintainer tool: make a finished FER2013 run the bundled model.

``python -m fer_keras.pretrained.bundle RUN_DIR`` writes, into ``fer_keras/pretrained/fer2013/``,
the run's ``config.yaml``, its model without optimizer state (``model_fold0.keras``; a model trained
under mixed precision is shipped as its float32 copy, so it predicts and fine-tunes alike on every
machine), the float32
TFLite twin (``model_fold0.tflite``, checked against Keras) and ``metrics.json`` trimmed to the
class order and accuracies. No image of the dataset is copied (its licence allows research use
only; the run's ``samples.npz`` stays behind).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fer_keras.cli.common import command_parser, run_cli
from fer_keras.quiet import load_tensorflow_quietly
from fer_keras.errors import UserError
from fer_keras.pretrained import BUNDLED_DIR
from fer_keras.rundir import RunDir

#: Keys of the run's metrics.json kept in the bundled one.
KEPT_METRICS = ("classes", "test_sets")


def bundled_config(run_config: Path, overrides: list[str]) -> str:
    """The run's config.yaml with every machine path replaced (:func:`placeholders`: no maintainer's path
    ships; predict reads none) and ``overrides`` (``key=value``, as ``--set``) applied; checked, not resolved.

    Kept as written (not resolved) so ``data.face_crop.detector: auto`` stays ``auto`` and picks
    the detector of the machine the model runs on.
    """
    import yaml

    from fer_keras.config import ExperimentConfig, apply_override

    raw = yaml.safe_load(run_config.read_text(encoding="utf-8"))
    for item in [*placeholders(raw), *overrides]:
        apply_override(raw, item)
    ExperimentConfig.model_validate(raw)  # still a valid config
    return yaml.safe_dump(raw, sort_keys=False)


#: What the shipped config says in place of the maintainer's own dataset path.
ROOT_PLACEHOLDER = "path/to/FER2013"


def placeholders(raw_config: dict) -> list[str]:
    """``--set`` items that replace every machine path of a run config (no maintainer's path ships):
    the data root, each extra training set's and test set's root, and the starting model."""
    items = [f"data.root={ROOT_PLACEHOLDER}"]
    for section in ("train_extra", "test_datasets"):
        for k, data in enumerate(raw_config.get(section) or []):
            if data.get("root") is not None:
                items.append(f"{section}.{k}.root=path/to/{data.get('name') or data.get('dataset')}")
    if (raw_config.get("model") or {}).get("init_from") not in (None, "pretrained"):
        items.append("model.init_from=path/to/the_starting_run")
    return items


def bundle(run_dir: Path, target: Path = BUNDLED_DIR, overrides: list[str] = ()) -> list[Path]:
    """Copy ``run_dir``'s model, config (with ``overrides``) and metrics into ``target``; returns the files written."""
    from fer_keras.inference.deploy import check_tflite_matches, sample_images, tflite_bytes
    from fer_keras.inference.predictor import find_model_file, load_keras_model
    from fer_keras.models.float32_copy import float32_model
    from fer_keras.training.fit import save_model

    model_file, found = find_model_file(run_dir)
    run = RunDir(found) if found is not None else None
    if run is None or not run.metrics_path.is_file():
        raise UserError(f"{run_dir} is not a finished run (needs config.yaml, model_fold0.keras, metrics.json)")
    model = float32_model(load_keras_model(model_file))  # uncompiled: no optimizer state in the shipped file
    target.mkdir(parents=True, exist_ok=True)
    bundled = RunDir(target)
    save_model(model, bundled.model_path(0))

    def write_tflite(temporary: Path) -> None:
        temporary.write_bytes(tflite_bytes(model))
        check_tflite_matches(model, temporary, sample_images(tuple(model.input_shape[1:]), 16))

    bundled.write_file(bundled.tflite_path(0), write_tflite)
    bundled.write_text(bundled.config_path, bundled_config(run.config_path, overrides))
    metrics = run.read_json(run.metrics_path)
    bundled.write_text(bundled.metrics_path, json.dumps({k: metrics[k] for k in KEPT_METRICS if k in metrics}, indent=1))
    return [bundled.config_path, bundled.model_path(0), bundled.tflite_path(0), bundled.metrics_path]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser("fer_keras.pretrained.bundle", __doc__)
    parser.add_argument("run_dir", type=Path, help="a finished fer2013_bundled run directory")
    parser.add_argument("--target", type=Path, default=BUNDLED_DIR, help="folder to write (default: the package's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copied config (e.g. model.test_time_flip=true); repeatable")
    return parser.parse_args(argv)


def command(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_tensorflow_quietly()
    for path in bundle(args.run_dir, args.target, args.overrides):
        print(f"{path.stat().st_size / 1e6:8.3f} MB  {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(command, argv)


if __name__ == "__main__":
    sys.exit(main())
