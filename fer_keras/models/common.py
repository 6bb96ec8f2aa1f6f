"""What the model builders share before the head: argument checks, the rescaled input, initialisers, the Grad-CAM layer name.

Every builder in this package takes float32 0..255 pixels and rescales them inside the model
(:func:`rescaled_input`), so a saved ``.keras`` file carries its preprocessing; the last
convolution of the custom CNNs is named :data:`LAST_CONV_LAYER` for Grad-CAM. The classifier
head every model ends in is :mod:`fer_keras.models.heads`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from fer_keras.errors import ModelError

#: Name of the last convolution of the custom, simple and compact CNNs (the Grad-CAM target layer).
LAST_CONV_LAYER = "last_conv"


def check_builder_args(
    model_name: str, input_shape: Sequence[int], num_classes: int, dropout: float, min_size: int
) -> tuple[int, int, int]:
    """Validate the common builder arguments; returns ``input_shape`` as a tuple of ints.

    Raises :class:`ModelError` with one line naming the bad value and what is expected.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise ModelError(
            f"model {model_name!r}: input_shape must be (height, width, channels) of positive ints, got {shape}"
        )
    if min(shape[:2]) < min_size:
        raise ModelError(f"model {model_name!r}: input height and width must be at least {min_size}, got {shape[:2]}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ModelError(f"model {model_name!r}: num_classes must be an int of at least 2, got {num_classes!r}")
    if not 0.0 <= dropout < 1.0:
        raise ModelError(f"model {model_name!r}: dropout must be in [0, 1), got {dropout!r}")
    return shape


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
