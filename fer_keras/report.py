"""``python -m fer_keras.report RUN_DIR``: rebuild a run's metrics, figures and report from its files."""

from __future__ import annotations

import argparse
import sys

from fer_keras.cli import run_cli


def rebuild(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_keras.report", description=__doc__)
    parser.add_argument("run_dir", help="a run directory written by fer_keras.train")
    args = parser.parse_args(argv)
    from fer_keras.reports.report import build_report

    print(f"report: {build_report(args.run_dir)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(rebuild, argv)


if __name__ == "__main__":
    sys.exit(main())
