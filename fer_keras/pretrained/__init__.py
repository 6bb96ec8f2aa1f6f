"""The FER2013 model that ships inside fer_keras, and the one-liner that loads it.

The bundled model lives in ``fer_keras/pretrained/fer2013/`` laid out as a finished run:
``config.yaml`` (the run's own, so predict detects and crops faces exactly as it says),
``model_fold0.keras``, its float32 TFLite twin ``model_fold0.tflite`` and ``metrics.json``
(class order and measured accuracy). Wherever fer_keras takes a model — ``predict`` and
``export`` without ``--model``, ``model.init_from: pretrained``, :func:`load_pretrained` — the
name ``pretrained`` means this folder. docs/model_card.md says how it was trained and measured.
"""

from __future__ import annotations

from fer_keras.trained import BUNDLED_DIR, BUNDLED_MODEL, PRETRAINED, bundled_dir, resolve_model

__all__ = ["BUNDLED_DIR", "BUNDLED_MODEL", "PRETRAINED", "bundled_dir", "load_pretrained", "resolve_model"]


def load_pretrained(detect: bool | None = None, engine: str = "auto"):
    """The bundled FER2013 model as a :class:`~fer_keras.inference.predictor.Predictor`.

    The same object ``python -m fer_keras.predict`` uses without ``--model``::

        faces = fer_keras.load_pretrained().predict(rgb_image)   # [Face(box, probabilities)]

    ``detect`` None follows the bundled config (faces are detected and cropped);
    ``engine`` is ``auto``, ``tflite`` or ``keras``.

    >>> import numpy as np
    >>> from fer_keras.pretrained import load_pretrained
    >>> predictor = load_pretrained(detect=False, engine="keras")  # the whole image is the face
    >>> predictor.classes  # FER2013's order
    ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise', 'neutral']
    >>> (face,) = predictor.predict(np.full((48, 48), 128, np.uint8))
    >>> face.box, round(float(face.probabilities.sum()), 3)
    ((0, 0, 48, 48), 1.0)
    """
    from fer_keras.inference.predictor import Predictor

    return Predictor.load(bundled_dir(), detect=detect, engine=engine)
