"""fer_keras: facial expression recognition papers reproduced in Keras 3 / TensorFlow."""

__version__ = "0.1.0"


def load_pretrained(detect: bool | None = None, engine: str = "auto"):
    """The bundled FER2013 model as a Predictor: ``fer_keras.load_pretrained().predict(rgb_image)``.

    See :func:`fer_keras.pretrained.load_pretrained`; TensorFlow is imported only when called.
    """
    from fer_keras.pretrained import load_pretrained as load

    return load(detect=detect, engine=engine)
