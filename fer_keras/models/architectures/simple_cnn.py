"""Paper D's 2-layer CNN (Facial Emotion Recognition Using Transfer Learning, on KDEF), registered as ``simple_cnn``.

Two blocks of Conv2D 3×3 ("same" padding, ReLU) + MaxPool 2×2, then Flatten → Dense ReLU →
Dropout → float32 Dense softmax. Builds for any input size (the paper tries 48, 64, 128, 224
and 360) and any channel count; input is float32 0..255, rescaled to 0..1 inside the model.

The head is Flatten, not global average pooling: the paper's accuracy changes with input
size, which a Flatten head reflects (its first dense layer grows with the image). It grows a
lot: with the defaults the model has 1,199,495 parameters at 48×48×1 and 66,375,623 at
360×360×3 (7 classes), almost all in ``fc1``. Filter counts, dense width and dropout are not
stated in the paper; the defaults here are filters (32, 64), 128 dense units, dropout 0.5.
The second convolution is named ``last_conv`` for Grad-CAM.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from fer_keras.models.common import LAST_CONV_LAYER, rescaled_input
from fer_keras.models.heads import dense_head
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model

@register_model("simple_cnn", min_size=4, gradcam_layer=LAST_CONV_LAYER)  # two 2×2 pools need 4 pixels
def simple_cnn(
    input_shape: tuple[int, int, int] = (48, 48, 1),
    num_classes: int = 7,
    filters: Sequence[int] = (32, 64),
    dense_units: int = 128,
    dropout: float = 0.5,
) -> keras.Model:
    """Two Conv 3×3 + MaxPool 2×2 blocks, Flatten, one hidden dense layer, softmax.

    Args:
        input_shape: (height, width, channels) of float32 0..255 input; at least 4×4.
        num_classes: size of the softmax.
        filters: filter counts of the two convolutions.
        dense_units: width of the hidden dense layer.
        dropout: rate after the hidden dense layer.
    """
    shape = tuple(input_shape)
    filters = tuple(filters)
    if len(filters) != 2 or not all(isinstance(f, int) and f > 0 for f in filters):
        raise ModelError(f"model 'simple_cnn': filters must be two positive ints, got {filters!r}")
    if not isinstance(dense_units, int) or dense_units < 1:
        raise ModelError(f"model 'simple_cnn': dense_units must be a positive int, got {dense_units!r}")
    inputs, x = rescaled_input(shape)
    for i, width in enumerate(filters, start=1):
        name = LAST_CONV_LAYER if i == len(filters) else f"conv{i}"
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=name)(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    outputs = dense_head(x, (dense_units,), dropout, num_classes)
    return keras.Model(inputs, outputs, name="simple_cnn")
