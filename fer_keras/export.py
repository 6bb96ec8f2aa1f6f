"""``python -m fer_keras.export``: Export a trained model; see :mod:`fer_keras.cli.export`."""

from fer_keras.cli.export import main

if __name__ == "__main__":
    raise SystemExit(main())
