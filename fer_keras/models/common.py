"""What the model builders share before the head: the rescaled input, initialisers, the Grad-CAM layer name.

Their common arguments (input shape, classes, dropout) are checked once for every model by
:func:`fer_keras.models.spec.check_model_input`.

Every builder in this package takes float32 0..255 pixels and rescales them inside the model
(:func:`rescaled_input`), so a saved ``.keras`` file carries its preprocessing; the last
convolution of the custom CNNs is named :data:`LAST_CONV_LAYER` for Grad-CAM. The classifier
head every model ends in is :mod:`fer_keras.models.heads`.
"""

from __future__ import annotations

import keras
from keras import layers

from fer_keras.errors import ModelError

#: Name of the last convolution of the custom, simple and compact CNNs (the Grad-CAM target layer).
LAST_CONV_LAYER = "last_conv"


#: ``input_scale`` option → (scale, offset) applied to 0..255 pixels inside the model.
INPUT_SCALES = {"unit": (1.0 / 255, 0.0), "symmetric": (1.0 / 127.5, -1.0)}


def rescaled_input(
    input_shape: tuple[int, int, int], input_scale: str = "unit", model_name: str = "model"
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The model input (float32 0..255) and its rescaled tensor (``unit`` 0..1, ``symmetric`` -1..1)."""
    if input_scale not in INPUT_SCALES:
        raise ModelError(f"model {model_name!r}: unknown input_scale {input_scale!r}; use one of {', '.join(INPUT_SCALES)}")
    scale, offset = INPUT_SCALES[input_scale]
    inputs = keras.Input(shape=input_shape, name="image")
    return inputs, layers.Rescaling(scale, offset=offset, name="rescale")(inputs)


def initializer(model_name: str, name: str, option: str = "kernel_initializer") -> str:
    """``name`` once Keras knows it as an initializer (``glorot_uniform``, ``he_normal``, ...); else ModelError.

    The name, not an instance, goes to each layer, so every layer draws its own weights.
    """
    try:
        keras.initializers.get(name)
    except (ValueError, TypeError):
        raise ModelError(f"model {model_name!r}: unknown {option} {name!r}; "
                         "use a Keras initializer name such as glorot_uniform, he_normal or zeros") from None
    return name
