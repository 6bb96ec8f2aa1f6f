"""``python -m fer_keras.predict``: Predict emotions on images, folders and videos; see :mod:`fer_keras.cli.predict`."""

from fer_keras.cli.predict import main

if __name__ == "__main__":
    raise SystemExit(main())
