"""The three custom CNNs of paper C (Borgalli and Surve 2022), FER2013 → CK+ / JAFFE.

Registered as ``custom_cnn1``, ``custom_cnn2`` and ``custom_cnn3``. Each model takes float32
pixels in 0..255 (default 48×48×1), rescales them inside the model (so a saved ``.keras``
file carries its preprocessing: ``input_scale: symmetric`` → -1..1, the default, or ``unit``
→ 0..1) and ends in a
float32 ``Dense`` softmax named ``predictions`` (mixed precision keeps a float32 head). The
last convolution is always named :data:`LAST_CONV_LAYER` (``"last_conv"``) for Grad-CAM.

At 48×48×1 and 7 classes the parameter counts equal the paper's: Model 1 20,007,687 (all
trainable); Model 2 1,485,831; Model 3 5,905,863 (5,902,151 trainable, 3,712 non-trainable
BatchNormalization moving statistics). Other sizes and channel counts build too (the counts
then differ) down to each model's minimum side (its spec's ``min_size``).

Choices the paper does not state, made here: ReLU after every convolution and hidden dense
layer; dense-head dropout 0.5; Model 3's BatchNormalization after the (ReLU-activated)
convolution, and 0.25 dropout after each of its convolution blocks. Defaults that depart from
what a literal Keras reading of the paper gives, and why: He-normal initialisation and input
rescaled to -1..1 (a literal reading: Glorot-uniform, the Keras default, and 0..1). On the real
FER2013 that literal setup never left the constant solution (loss ln 7 with balancing, every
image "neutral", 17.2%): under Glorot Model 2's signal shrinks from std 0.20 at the input to
0.008 at its flatten, and 0..1 pixels add a common brightness offset that dominates the first
ReLUs. He-normal keeps the flatten's std near the input's and centred pixels remove the offset;
both add no parameter, so the counts stay the paper's. ``kernel_initializer: glorot_uniform``
and ``input_scale: unit`` give the literal setup back.

Model 3 also starts its softmax layer at zero (``output_initializer: zeros``; the literal reading,
and Models 1 and 2: Glorot-uniform). Its dense head takes 2,048 batch-normalised, max-pooled (so
mostly positive) features through three dropout-0.5 layers, each doubling the signal's power
in training: at the first step the logits are large (training loss about 10 against ln 7 = 1.95,
top probability 0.87), and on the real FER2013 the first epoch killed 96% of the ReLUs of fc1
(every image then gets one answer: 16.2%, chance). A zero softmax layer starts every image at
the uniform prediction: in 150 Adam steps on real FER2013 it kept 86% of fc1 alive against 18%,
and a first epoch at the paper's settings reached 34.1% (42% of fc1 firing) against 16.2%.
Zeros add no parameter either; ``output_initializer: glorot_uniform`` gives the literal setup back.
"""

from __future__ import annotations


import keras
from keras import layers

from fer_keras.models.common import (  # noqa: F401  (LAST_CONV_LAYER is also read from here)
    LAST_CONV_LAYER, initializer, rescaled_input,
)
from fer_keras.models.heads import dense_head
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model

#: Smallest input height/width each model can take (smaller sides pool down to nothing).
_MIN_SIZE = {"custom_cnn1": 4, "custom_cnn2": 45, "custom_cnn3": 18}


def _registered(name: str):
    return register_model(name, min_size=_MIN_SIZE[name], gradcam_layer=LAST_CONV_LAYER)


@_registered("custom_cnn1")
def custom_cnn1(
    input_shape: tuple[int, int, int] = (48, 48, 1), num_classes: int = 7, dropout: float = 0.5,
    kernel_initializer: str = "he_normal",
    input_scale: str = "symmetric",
) -> keras.Model:
    """Model 1: Conv 64 5×5 → pool → Conv 128 3×3 → pool → Dense 1024 ×2 → softmax.

    Args:
        input_shape: (height, width, channels) of float32 0..255 input; at least 4×4.
        num_classes: size of the softmax.
        dropout: rate after each 1024-unit dense layer (paper: unstated; 0.5 here).
        kernel_initializer: of every convolution and hidden dense layer (Keras name; paper: unstated;
            ``he_normal`` here, see the module docstring).
        input_scale: ``symmetric`` (pixels → -1..1, default) or ``unit`` (0..1).
    """
    shape = tuple(input_shape)
    init = initializer("custom_cnn1", kernel_initializer)
    inputs, x = rescaled_input(shape, input_scale, "custom_cnn1")
    x = layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=init, name="conv1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", kernel_initializer=init, name=LAST_CONV_LAYER)(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    outputs = dense_head(x, (1024, 1024), dropout, num_classes, init)
    return keras.Model(inputs, outputs, name="custom_cnn1")


@_registered("custom_cnn2")
def custom_cnn2(
    input_shape: tuple[int, int, int] = (48, 48, 1), num_classes: int = 7, dropout: float = 0.5,
    kernel_initializer: str = "he_normal",
    input_scale: str = "symmetric",
) -> keras.Model:
    """Model 2: valid convolutions with 5×5/2 max-pool and 3×3/2 average pools, Dense 1024 ×2.

    48 → conv 5×5 → 44 → max-pool 5×5/2 → 20 → conv 3×3 ×2 → 16 → avg-pool 3×3/2 → 7 →
    conv 3×3 ×2 → 3 → avg-pool 3×3/2 → 1 → Flatten 128 → Dense 1024 ×2 → softmax.

    Args:
        input_shape: (height, width, channels) of float32 0..255 input; at least 45×45.
        num_classes: size of the softmax.
        dropout: rate after each 1024-unit dense layer (paper: unstated; 0.5 here).
        kernel_initializer: of every convolution and hidden dense layer (Keras name; paper: unstated;
            ``he_normal`` here, see the module docstring).
        input_scale: ``symmetric`` (pixels → -1..1, default) or ``unit`` (0..1).
    """
    shape = tuple(input_shape)
    init = initializer("custom_cnn2", kernel_initializer)
    inputs, x = rescaled_input(shape, input_scale, "custom_cnn2")
    x = layers.Conv2D(64, 5, activation="relu", kernel_initializer=init, name="conv1")(x)
    x = layers.MaxPooling2D(5, strides=2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", kernel_initializer=init, name="conv2")(x)
    x = layers.Conv2D(64, 3, activation="relu", kernel_initializer=init, name="conv3")(x)
    x = layers.AveragePooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", kernel_initializer=init, name="conv4")(x)
    x = layers.Conv2D(128, 3, activation="relu", kernel_initializer=init, name=LAST_CONV_LAYER)(x)
    x = layers.AveragePooling2D(3, strides=2, name="pool3")(x)
    outputs = dense_head(x, (1024, 1024), dropout, num_classes, init)
    return keras.Model(inputs, outputs, name="custom_cnn2")


@_registered("custom_cnn3")
def custom_cnn3(
    input_shape: tuple[int, int, int] = (48, 48, 1),
    num_classes: int = 7,
    dropout: float = 0.5,
    conv_dropout: float = 0.25,
    kernel_initializer: str = "he_normal",
    input_scale: str = "symmetric",
    output_initializer: str = "zeros",
) -> keras.Model:
    """Model 3: four conv blocks (64, 128, 256, 512) with BatchNorm, Dense 512 → 256 → 128.

    The first convolution is valid (48 → 46), every other one "same"; every convolution but
    the first is followed by BatchNormalization, as in the paper's table (64 + 2·128 + 2·256 +
    2·512 channels → 3,712 non-trainable moving statistics at any input size); each block
    ends in 2×2 max-pool and dropout:
    46 → 23 → 11 → 5 → 2, Flatten 2,048 at 48×48.

    Args:
        input_shape: (height, width, channels) of float32 0..255 input; at least 18×18.
        num_classes: size of the softmax.
        dropout: rate after each hidden dense layer (paper: unstated; 0.5 here).
        conv_dropout: rate after each convolution block (paper: unstated; 0.25 here).
        kernel_initializer: of every convolution and hidden dense layer (Keras name; paper: unstated;
            ``he_normal`` here, see the module docstring).
        input_scale: ``symmetric`` (pixels → -1..1, default) or ``unit`` (0..1).
        output_initializer: of the softmax layer (paper: unstated; ``zeros`` here, so training starts
            at the uniform prediction, loss ln 7; see the module docstring).
    """
    shape = tuple(input_shape)
    init = initializer("custom_cnn3", kernel_initializer)
    output_init = initializer("custom_cnn3", output_initializer, "output_initializer")
    if not 0.0 <= conv_dropout < 1.0:
        raise ModelError(f"model 'custom_cnn3': conv_dropout must be in [0, 1), got {conv_dropout!r}")
    inputs, x = rescaled_input(shape, input_scale, "custom_cnn3")
    blocks = (64, 128, 256, 512)
    n_convs = 2 * len(blocks)
    for block, filters in enumerate(blocks, start=1):
        for j in (1, 2):
            index = 2 * block - 2 + j
            first = index == 1
            name = LAST_CONV_LAYER if index == n_convs else f"conv{index}"
            x = layers.Conv2D(filters, 3, padding="valid" if first else "same", activation="relu",
                              kernel_initializer=init, name=name)(x)
            if not first:  # the paper's table has no BatchNorm after the very first convolution
                x = layers.BatchNormalization(name=f"bn{index}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(conv_dropout, name=f"block{block}_dropout")(x)
    outputs = dense_head(x, (512, 256, 128), dropout, num_classes, init, output_init)
    return keras.Model(inputs, outputs, name="custom_cnn3")
