"""Train and evaluate a config's experiment: ``python -m fer_keras.train --config quickstart.yaml [--set training.epochs=3] [--fold K] [--seeds 1 2 3] [--out RUN_DIR]``.

Trains and evaluates the experiment a config describes and prints where its report is.
Running the same command with ``--out`` pointing at an unfinished run resumes it.
``--seeds 1 2 3`` runs it once per seed into ``OUT/seed1``, ``OUT/seed2``… (finished seeds are
kept, an unfinished one resumes) and writes ``OUT/seeds_summary.md``: accuracy mean ± SD.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from fer_keras.cli.common import command_parser, run_cli
from fer_keras.quiet import load_tensorflow_quietly
from fer_keras.errors import ConfigError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser("fer_keras.train", __doc__)
    parser.add_argument("--config", required=True, help="a YAML path, or the name of a packaged config (e.g. quickstart.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, e.g. training.epochs=3 (repeatable)")
    parser.add_argument("--fold", type=int, default=None, help="run only this fold (k-fold experiments)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="N",
                        help="run once per seed into OUT/seed<N> and summarise accuracy as mean ± SD")
    parser.add_argument("--out", default=None, help="run directory to write (or resume); default reports/<experiment>/<timestamp>")
    args = parser.parse_args(argv)
    if args.seeds is not None:
        if args.fold is not None:
            raise ConfigError("--seeds runs whole experiments; --fold cannot be combined with it")
        if any(override.split("=", 1)[0].strip() == "seed" for override in args.overrides):
            raise ConfigError("give the seeds with --seeds, not --set seed=")
        if len(set(args.seeds)) != len(args.seeds):
            raise ConfigError(f"--seeds lists a seed twice: {' '.join(map(str, args.seeds))}")
    return args


def check_dataset_names(config) -> None:
    """Every dataset the config reads is a registered reader (checked before TensorFlow loads)."""
    from fer_keras.data.registry import reader_names

    datasets = [("data", config.data)] + [(f"test_datasets.{i}", d) for i, d in enumerate(config.test_datasets)]
    datasets += [(f"train_extra.{i}", d) for i, d in enumerate(config.train_extra)]
    if config.transfer is not None:
        datasets.append(("transfer.source", config.transfer.source))
    for key, data in datasets:
        if data.dataset not in reader_names():
            raise ConfigError(f"{key}.dataset {data.dataset!r} is not a registered reader; known: "
                              f"{', '.join(reader_names())}")


def train(argv: list[str] | None = None) -> int:
    """Run the experiment; print the report path."""
    args = parse_args(argv)
    from fer_keras.config import load_config

    config = load_config(args.config, args.overrides)  # before TensorFlow loads: config errors come fast
    # one config per seed, all checked before any training (a bad seed is one line, not a late failure)
    seeded = [load_config(args.config, args.overrides + [f"seed={seed}"]) for seed in args.seeds or []]
    check_dataset_names(config)
    load_tensorflow_quietly()
    if config.ensemble is None:
        from fer_keras.models import model_names

        if config.model.name not in model_names():  # before any image is read
            raise ConfigError(f"model.name {config.model.name!r} is not a registered model; known: "
                              f"{', '.join(model_names())}")
    from fer_keras.training.experiment import run_experiment

    if args.seeds is None:
        run_dir = run_experiment(config, run_dir=args.out, fold=args.fold)
        print(f"report: {run_dir / 'report.md'}")
        return 0
    from fer_keras.reports.seeds import write_seed_summary

    base = Path(args.out) if args.out else Path(config.runtime.out_dir) / config.experiment / (
        "seeds-" + datetime.now().strftime("%Y%m%d-%H%M%S"))
    run_dirs = []
    for seed_config in seeded:
        run_dirs.append(run_experiment(seed_config, run_dir=base / f"seed{seed_config.seed}"))
        print(f"report: {run_dirs[-1] / 'report.md'}")
    print(f"summary: {write_seed_summary(run_dirs, base)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(train, argv)


if __name__ == "__main__":
    sys.exit(main())
