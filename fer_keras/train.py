"""``python -m fer_keras.train``: Train and evaluate a config's experiment; see :mod:`fer_keras.cli.train`."""

from fer_keras.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())
