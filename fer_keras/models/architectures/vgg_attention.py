"""VGG16 with optional Squeeze-and-Excitation or CBAM attention after conv blocks 2, 3 and 4.

Registered builders: ``vgg16_attention`` (option ``attention="none"|"se"|"cbam"``) and its
aliases ``vgg16_base``, ``vgg16_se``, ``vgg16_cbam`` (same options, attention fixed).

Layout: ``image`` (float32, 0..255, 1 or 3 channels) -> ``gray_to_rgb`` (only for 1 channel:
the channel replicated three times) -> ``vgg_preprocess`` (optional) -> the VGG16 conv body
with the layer names of ``keras.applications.VGG16`` (``block1_conv1`` ... ``block5_pool``;
the last conv is ``block5_conv3``, Grad-CAM's layer) -> head -> ``predictions`` (float32
softmax). An attention block (``block2_se``, ``block3_cbam``, ...) sits right AFTER the
pooling layer of blocks 2, 3 and 4, i.e. it re-weights each block's final output (128, 256,
512 channels) before the next block reads it.

ImageNet weights (``weights="imagenet"`` or a file path) fill the VGG16 conv layers only; the
attention blocks and the head keep their Glorot-uniform initialisation. ``weights=None``
trains everything from scratch with Glorot-uniform kernels and zero biases.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import keras

from fer_keras.models.architectures import backbones
from fer_keras.models.attention import CBAM, SqueezeExcite
from fer_keras.models.heads import dense_head, pooled_head
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model

__all__ = ["VGGPreprocess", "build_vgg16_attention", "load_vgg16_weights"]

#: (filters, convolutions) of each VGG16 conv block.
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
#: Blocks whose pooled output goes through an attention block.
ATTENTION_AFTER_BLOCKS = (2, 3, 4)
ATTENTIONS = ("none", "se", "cbam")
HEADS = ("gap", "vgg")
PREPROCESSING = ("vgg", "none")
#: VGG16 needs five 2x2 poolings to leave at least one pixel.
MIN_SIDE = 32
#: The spec every VGG16 variant registers with (ImageNet weights: the vgg16 backbone's file).
VGG16_SPEC = {"min_size": MIN_SIDE, "channels": (1, 3), "variable_size": True, "stem": "backbone",
              "weights_file": backbones.BACKBONES["vgg16"].weights_file}


@keras.saving.register_keras_serializable(package="fer_keras")
class VGGPreprocess(backbones.BackbonePreprocess):
    """``keras.applications.vgg16.preprocess_input`` as a layer: the backbones' ``caffe`` scaling.

    Takes RGB values in 0..255 and returns ``x[..., ::-1] - (103.939, 116.779, 123.68)``. Kept
    under its own name so models saved with it reload.

    Args:
        **kwargs: standard ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, **kwargs):
        kwargs.pop("mode", None)
        super().__init__("caffe", **kwargs)


def _check_options(input_shape, attention, head, preprocess) -> None:
    """The VGG16 options (input shape, classes and dropout pass the registry's check first)."""
    if head == "vgg" and None in input_shape[:2]:
        raise ModelError("model 'vgg16': head 'vgg' (Flatten) needs a fixed height and width; use head 'gap'")
    for option, value, allowed in (
        ("attention", attention, ATTENTIONS),
        ("head", head, HEADS),
        ("preprocess", preprocess, PREPROCESSING),
    ):
        if value not in allowed:
            raise ModelError(f"model 'vgg16': unknown {option} {value!r}; expected one of {', '.join(allowed)}")


def _attention_block(attention: str, block: int, reduction: int) -> keras.layers.Layer:
    if attention == "se":
        return SqueezeExcite(reduction=reduction, name=f"block{block}_se")
    return CBAM(reduction=reduction, name=f"block{block}_cbam")


def _vgg16_body(x, attention: str, reduction: int):
    """The VGG16 conv blocks (keras.applications layer names), attention after blocks 2-4."""
    for block, (filters, convolutions) in enumerate(VGG16_BLOCKS, start=1):
        for index in range(1, convolutions + 1):
            x = keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"block{block}_conv{index}"
            )(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
        if attention != "none" and block in ATTENTION_AFTER_BLOCKS:
            x = _attention_block(attention, block, reduction)(x)
    return x


def _head(x, head: str, num_classes: int, dropout: float, dense_units: int):
    """The paper's head (``vgg``: Flatten, fc1, fc2) or the pooled one (``gap``)."""
    if head == "vgg":
        return dense_head(x, (dense_units, dense_units), dropout, num_classes)
    return pooled_head(x, num_classes, dropout)


def _weights_path(weights) -> str:
    if isinstance(weights, str) and weights == "imagenet":  # the vgg16 backbone's file, found offline
        return str(backbones.resolve_imagenet_weights("vgg16", include_top=False))
    if not isinstance(weights, (str, os.PathLike)):
        raise ModelError(f"model 'vgg16': weights must be null, 'imagenet' or a file path, got {weights!r}")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ModelError(
            f"model 'vgg16': weights file {str(path)!r} does not exist; expected a Keras VGG16 notop weights file "
            "(.h5 or .weights.h5), 'imagenet' or null"
        )
    return str(path)


def load_vgg16_weights(model: keras.Model, weights) -> None:
    """Copy VGG16 notop conv weights (``'imagenet'`` or a file) into ``model``'s same-named layers.

    The file is read the way ``keras.applications.VGG16(include_top=False, weights=path)``
    reads it (legacy ``.h5`` such as Keras' own download, or a ``.weights.h5`` saved from that
    model); every layer of that reference model with weights is then copied by name.
    """
    path = _weights_path(weights)
    try:
        reference = keras.applications.VGG16(include_top=False, weights=path, input_shape=(None, None, 3))
    except (ValueError, OSError, KeyError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"model 'vgg16': cannot load VGG16 notop weights from {path!r}: {reason}") from error
    for layer in reference.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())


@register_model("vgg16_attention", **VGG16_SPEC)
def build_vgg16_attention(
    input_shape: tuple[int, int, int],
    num_classes: int,
    attention: str = "none",
    weights: str | os.PathLike | None = None,
    head: str = "gap",
    preprocess: str = "vgg",
    reduction: int = 16,
    dropout: float = 0.5,
    dense_units: int = 4096,
) -> keras.Model:
    """VGG16 (base, +SE or +CBAM after conv blocks 2, 3, 4) ending in a float32 softmax.

    Args:
        input_shape: ``(height, width, channels)``; channels 1 (replicated to RGB inside the
            model) or 3; height and width at least 32 (may be ``None`` with ``head="gap"``).
        num_classes: number of output classes.
        attention: ``"none"`` (plain VGG16), ``"se"`` or ``"cbam"``.
        weights: ``None`` (Glorot from scratch), ``"imagenet"`` (the Keras VGG16 notop file,
            found offline by ``fer_keras.models.weights``) or a path to such a file. Only the
            VGG16 conv layers are loaded; attention and head stay Glorot-initialised.
        head: ``"gap"`` (default: GlobalAveragePooling + Dropout + Dense, ~15 M parameters in
            all) or ``"vgg"`` (the paper's Flatten + Dense 4096 + Dense 4096 with dropout;
            ~134 M parameters at 224 px, mostly in ``fc1``).
        preprocess: ``"vgg"`` (default: ``vgg16.preprocess_input`` inside the model, which
            ImageNet weights expect) or ``"none"`` (raw 0..255 values reach ``block1_conv1``).
        reduction: SE / CBAM bottleneck ratio (default 16).
        dropout: dropout rate of the head (default 0.5).
        dense_units: width of the two hidden dense layers of ``head="vgg"`` (default 4096).
    """
    input_shape = tuple(input_shape)
    _check_options(input_shape, attention, head, preprocess)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if input_shape[-1] == 1:
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    if preprocess == "vgg":
        x = VGGPreprocess(name="vgg_preprocess")(x)
    x = _vgg16_body(x, attention, reduction)
    outputs = _head(x, head, num_classes, dropout, dense_units)
    model = keras.Model(inputs, outputs, name="vgg16_base" if attention == "none" else f"vgg16_{attention}")
    if weights is not None:
        load_vgg16_weights(model, weights)
    return model


def _alias(attention: str):
    """A builder with ``attention`` fixed and the other options of ``build_vgg16_attention``."""

    def builder(input_shape, num_classes, **options):
        return build_vgg16_attention(input_shape, num_classes, attention=attention, **options)

    signature = inspect.signature(build_vgg16_attention)
    builder.__signature__ = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != "attention"]
    )
    builder.__name__ = builder.__qualname__ = f"build_vgg16_{'base' if attention == 'none' else attention}"
    builder.__doc__ = f"VGG16 with attention={attention!r}; see build_vgg16_attention."
    return builder


build_vgg16_base = register_model("vgg16_base", **VGG16_SPEC)(_alias("none"))
build_vgg16_se = register_model("vgg16_se", **VGG16_SPEC)(_alias("se"))
build_vgg16_cbam = register_model("vgg16_cbam", **VGG16_SPEC)(_alias("cbam"))
