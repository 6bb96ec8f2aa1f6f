"""The FER2013 model that ships inside fer_keras, and the one-liner that loads it.

The bundled model lives in ``fer_keras/pretrained/fer2013/`` laid out as a finished run:
``config.yaml`` (the run's own, so predict detects and crops faces exactly as it says),
``model_fold0.keras``, its float32 TFLite twin ``model_fold0.tflite`` and ``metrics.json``
(class order and measured accuracy). Wherever fer_keras takes a model — ``predict`` and
``export`` without ``--model``, ``model.init_from: pretrained``, :func:`load_pretrained` — the
name ``pretrained`` means this folder. docs/model_card.md says how it was trained and measured.
"""

from __future__ import annotations

from pathlib import Path

from fer_keras.rundir import RunDir

#: The name that selects the bundled model (``--model pretrained``, ``model.init_from: pretrained``).
PRETRAINED = "pretrained"
#: Folder of the bundled FER2013 model, laid out as a finished run.
BUNDLED_DIR = Path(__file__).resolve().parent / "fer2013"
#: Its Keras file.
BUNDLED_MODEL = RunDir(BUNDLED_DIR).model(0)


def bundled_dir() -> Path:
    """The bundled model's folder; one-line error when its files are missing."""
    from fer_keras.errors import UserError

    if not BUNDLED_MODEL.is_file() or not RunDir(BUNDLED_DIR).config.is_file():
        raise UserError(f"the bundled FER2013 model is missing from this installation ({BUNDLED_MODEL}); "
                        "reinstall fer_keras, or give --model / model.init_from a run directory")
    return BUNDLED_DIR


def resolve_model(source: str | Path | None) -> Path:
    """``None`` or ``"pretrained"`` → the bundled model's folder; anything else as a path."""
    if source is None or str(source) == PRETRAINED:
        return bundled_dir()
    return Path(source)


def load_pretrained(detect: bool | None = None, engine: str = "auto"):
    """The bundled FER2013 model as a :class:`~fer_keras.inference.predictor.Predictor`.

    The same object ``python -m fer_keras.predict`` uses without ``--model``::

        faces = fer_keras.load_pretrained().predict(rgb_image)   # [Face(box, probabilities)]

    ``detect`` None follows the bundled config (faces are detected and cropped);
    ``engine`` is ``auto``, ``tflite`` or ``keras``.
    """
    from fer_keras.inference.predictor import Predictor

    return Predictor.load(bundled_dir(), detect=detect, engine=engine)
