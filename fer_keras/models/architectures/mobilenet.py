"""MobileNetV2 with its ImageNet top swapped for an N-way softmax (the JAFFE transfer-learning paper).

ImageNet MobileNetV2 with its 1000-way top replaced by an N-way softmax. The paper
replaces the last dense layer (1000 → 7); Keras' MobileNetV2 top is global average
pooling → dense 1000, so keeping the global average pooling and swapping the dense layer
is exactly that swap (``dropout``/``dense_units`` default to none, so nothing else is added).

Input is 224×224×3 by default; any size Keras allows (at least 32×32) works; grayscale
input is replicated to 3 channels inside the model.

``preprocess`` defaults to ``"none"`` because the paper found normalisation hurt (by more
than 40 points). "No normalisation" means the raw pixel values, floats in 0..255, go
straight into the ImageNet-pretrained body, although that body was trained on inputs
scaled to -1..1; ``"backbone"`` adds MobileNetV2's own scaling (``x / 127.5 - 1``) as a
layer inside the model. Fine-tune modes, weights and BN handling are those of
:mod:`fer_keras.models.architectures.backbones`; the last block is ``block_16`` plus the final 1×1
convolution (``Conv_1``).
"""

from __future__ import annotations

import keras

from fer_keras.models.architectures.backbones import (
    KERAS_WEIGHTS_URL,
    TF_KERNELS,
    BackboneSpec,
    build_transfer_model,
    model_spec_fields,
    register_backbone,
)
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model

#: MobileNetV2 ImageNet weights exist for these width multipliers and input sizes only.
MOBILENET_V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
MOBILENET_V2_ROWS = (96, 128, 160, 192, 224)


def _mobilenet_v2(input_shape, name, alpha: float = 1.0) -> keras.Model:
    return keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=input_shape, alpha=alpha, name=name
    )


def mobilenet_v2_weights_file(include_top: bool = False, rows: int = 224, alpha: float = 1.0) -> tuple[str, str]:
    """Keras' MobileNetV2 ImageNet file for width ``alpha`` and input height ``rows``, and its URL.

    Like Keras, an input size without published weights uses the 224 px file.
    """
    if float(alpha) not in MOBILENET_V2_ALPHAS:
        raise ModelError(
            f"mobilenet_v2: ImageNet weights exist only for alpha in {list(MOBILENET_V2_ALPHAS)}, got {alpha}"
        )
    size = rows if rows in MOBILENET_V2_ROWS else 224
    tail = f"_{float(alpha)}_{size}.h5" if include_top else f"_{float(alpha)}_{size}_no_top.h5"
    file_name = f"mobilenet_v2{TF_KERNELS}{tail}"
    return file_name, f"{KERAS_WEIGHTS_URL}mobilenet_v2/{file_name}"


MOBILENET_V2 = register_backbone(
    BackboneSpec("mobilenet_v2", _mobilenet_v2, "tf", "block_16_", weights_file=mobilenet_v2_weights_file)
)


@register_model("mobilenet_v2", **model_spec_fields(MOBILENET_V2))
def build_mobilenet_v2(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 7,
    weights: str | None = None,
    fine_tune: str = "full",
    preprocess: str = "none",
    alpha: float = 1.0,
    dropout: float = 0.0,
    dense_units: int | None = None,
    freeze_batchnorm: bool | None = None,
    bn_momentum: float | None = None,
) -> keras.Model:
    """MobileNetV2 (width ``alpha``) with an N-way softmax instead of its 1000-way top.

    ``weights``: None, ``"imagenet"`` (the Keras file for this ``alpha`` and input size,
    found offline) or a file path. See the module docstring for ``preprocess``.
    """
    return build_transfer_model(
        MOBILENET_V2, input_shape, num_classes, weights=weights, fine_tune=fine_tune, dropout=dropout,
        dense_units=dense_units, preprocess=preprocess, freeze_batchnorm=freeze_batchnorm, bn_momentum=bn_momentum,
        alpha=float(alpha),
    )
