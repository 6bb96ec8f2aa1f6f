"""``python -m fer_keras.report RUN_DIR``: rebuild a run's metrics, figures and report from its files (``--seeds``: mean ± SD over seeds).

``python -m fer_keras.report --seeds RUN_DIR RUN_DIR ... --out DIR``: accuracy mean ± SD over
finished runs of one experiment with different seeds (``seeds_summary.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer_keras.cli.common import command_parser, run_cli


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser("fer_keras.report", __doc__)
    parser.add_argument("run_dir", nargs="+", help="a run directory written by fer_keras.train (several with --seeds)")
    parser.add_argument("--seeds", action="store_true", help="summarise several runs (one per seed) as mean ± SD")
    parser.add_argument("--out", help="with --seeds: folder for seeds_summary.md/.csv (default: the first run's parent)")
    args = parser.parse_args(argv)
    if len(args.run_dir) > 1 and not args.seeds:
        parser.error("one run directory at a time (several only with --seeds)")
    return args


def rebuild(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seeds:
        from fer_keras.reports.seeds import write_seed_summary

        print(f"summary: {write_seed_summary(args.run_dir, args.out or Path(args.run_dir[0]).parent)}")
        return 0
    from fer_keras.reports.run_report import build_report

    print(f"report: {build_report(args.run_dir[0])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(rebuild, argv)


if __name__ == "__main__":
    sys.exit(main())
