"""ResNet18/34 built from the ResNet paper's basic blocks (Keras ships neither)."""

from __future__ import annotations

import keras
from keras import layers


def _basic_block(x, filters: int, stride: int, name: str):
    """Two 3x3 convolutions with a residual connection (ResNet paper, Fig. 2 left).

    The shortcut is a 1x1 strided projection when the shape changes (the paper's
    option B). Padding is explicit and symmetric, as in the paper's (and torchvision's)
    implementation, so converted weights line up.
    """
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 kernel_initializer="he_normal", name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_0_bn")(shortcut)
    y = layers.ZeroPadding2D(1, name=f"{name}_1_pad")(x)
    y = layers.Conv2D(filters, 3, strides=stride, use_bias=False, kernel_initializer="he_normal", name=f"{name}_1_conv")(y)
    y = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_1_bn")(y)
    y = layers.ReLU(name=f"{name}_1_relu")(y)
    y = layers.ZeroPadding2D(1, name=f"{name}_2_pad")(y)
    y = layers.Conv2D(filters, 3, use_bias=False, kernel_initializer="he_normal", name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_2_bn")(y)
    x = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(x)


def basic_resnet(input_shape: tuple[int, int, int], blocks: tuple[int, int, int, int], name: str) -> keras.Model:
    """Headless ResNet of basic blocks (ResNet18: 2-2-2-2, ResNet34: 3-4-6-3).

    Layer names follow keras.applications' ResNet (``conv1_conv``, ``conv2_block1_1_conv``,
    ..., ``conv5_block2_out``); the output is the last stage's feature map.
    """
    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, kernel_initializer="he_normal", name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks), start=2):
        for index in range(1, count + 1):
            stride = 2 if index == 1 and stage > 2 else 1
            x = _basic_block(x, filters, stride, name=f"conv{stage}_block{index}")
    return keras.Model(inputs, x, name=name)
