"""A compact VGG-style CNN for 48×48 faces, registered as ``compact_cnn`` (the bundled model's).

Stages of 3×3 convolutions (no bias → BatchNormalization → ReLU), each
stage but the last ending in 2×2 max-pool and spatial dropout; then global average pooling,
dropout and a float32 softmax named ``predictions``. Not from one of the four papers: it is
the architecture of the FER2013 model that ships inside the package (``fer2013_bundled.yaml``),
chosen to train in about two hours on two CPU cores. Input is float32 0..255, rescaled to
-1..1 inside the model; the last convolution is named ``last_conv`` for Grad-CAM.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from fer_keras.models.common import LAST_CONV_LAYER, rescaled_input
from fer_keras.models.heads import pooled_head
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model
from fer_keras.models.spec import check_min_size


@register_model("compact_cnn", min_size=8, gradcam_layer=LAST_CONV_LAYER)  # the default 4 stages
def compact_cnn(
    input_shape: tuple[int, int, int] = (48, 48, 1),
    num_classes: int = 7,
    widths: Sequence[int] = (32, 64, 128, 256),
    convs_per_stage: int | Sequence[int] = (1, 2, 2, 2),
    stage_dropout: float = 0.1,
    dropout: float = 0.4,
) -> keras.Model:
    """VGG-style stages with BatchNorm, global average pooling, dropout, softmax.

    Args:
        input_shape: (height, width, channels) of float32 0..255 input; each side at least
            2 ** (len(widths) - 1).
        num_classes: size of the softmax.
        widths: filters of each stage.
        convs_per_stage: 3×3 convolutions per stage (one int for all stages, or one per stage).
        stage_dropout: spatial dropout rate after each pooled stage.
        dropout: rate before the softmax.
    """
    widths = tuple(widths)
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ModelError(f"model 'compact_cnn': widths must be positive ints, got {widths!r}")
    counts = (convs_per_stage,) * len(widths) if isinstance(convs_per_stage, int) else tuple(convs_per_stage)
    if len(counts) != len(widths) or not all(isinstance(n, int) and n > 0 for n in counts):
        raise ModelError(f"model 'compact_cnn': convs_per_stage must be a positive int or one per stage, "
                         f"got {convs_per_stage!r}")
    if not 0.0 <= stage_dropout < 1.0:
        raise ModelError(f"model 'compact_cnn': stage_dropout must be in [0, 1), got {stage_dropout!r}")
    shape = tuple(input_shape)
    check_min_size("compact_cnn", shape, 2 ** (len(widths) - 1))
    inputs, x = rescaled_input(shape, "symmetric", "compact_cnn")
    for stage, (width, count) in enumerate(zip(widths, counts), start=1):
        for j in range(1, count + 1):
            last = stage == len(widths) and j == count
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                              name=f"conv{stage}_{j}")(x)
            x = layers.BatchNormalization(name=f"bn{stage}_{j}")(x)
            x = layers.Activation("relu", name=LAST_CONV_LAYER if last else f"relu{stage}_{j}")(x)
        if stage < len(widths):
            x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
            if stage_dropout:
                x = layers.SpatialDropout2D(stage_dropout, name=f"stage{stage}_dropout")(x)
    return keras.Model(inputs, pooled_head(x, num_classes, dropout), name="compact_cnn")
