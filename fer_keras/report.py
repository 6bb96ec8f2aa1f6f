"""``python -m fer_keras.report``: Rebuild a run's report; see :mod:`fer_keras.cli.report`."""

from fer_keras.cli.report import main

if __name__ == "__main__":
    raise SystemExit(main())
