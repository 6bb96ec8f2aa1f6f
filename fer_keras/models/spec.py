"""What is known of a registered model without building it (:class:`ModelSpec`), and the one check of its inputs.

Every model is registered once, with its spec (:func:`fer_keras.models.registry.register_model`);
:func:`check_model_input` is the check every build passes before its builder runs, so every model
answers a bad input shape, class count or dropout with the same one-line :class:`ModelError`.
Options only one model has are checked by its builder, in the same ``model 'name': ...`` style.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral

import keras

from fer_keras.errors import ModelError

Builder = Callable[..., keras.Model]

#: How pixels enter a model: ``rescale`` (float32 0..255 rescaled by the model's first layer,
#: :func:`fer_keras.models.common.rescaled_input`) or ``backbone`` (the backbone's own ImageNet scaling).
STEMS = ("rescale", "backbone")


@dataclass(frozen=True)
class ModelSpec:
    """One registered model.

    Args:
        name: the ``model.name`` of configs.
        builder: ``builder(input_shape=(H, W, C), num_classes=N, **options)`` → a Keras model.
        min_size: the smallest input height and width it takes.
        channels: the input channel counts it takes (None: any).
        variable_size: whether height and width may be None (a model for any image size).
        gradcam_layer: the layer Grad-CAM explains (None: the last convolution, found in the built model).
        stem: how pixels enter the model (:data:`STEMS`).
        weights_file: ``weights_file(include_top, rows, **variant)`` → the file name and URL of its
            ImageNet weights; None when it has none.
    """

    name: str
    builder: Builder
    min_size: int = 1
    channels: tuple[int, ...] | None = None
    variable_size: bool = False
    gradcam_layer: str | None = None
    stem: str = "rescale"
    weights_file: Callable[..., tuple[str, str | None]] | None = None

    def __post_init__(self):
        if self.stem not in STEMS:
            raise ValueError(f"model {self.name!r}: stem must be one of {', '.join(STEMS)}, got {self.stem!r}")


def check_model_input(spec: ModelSpec, input_shape: Sequence, num_classes, dropout=0.0) -> tuple:
    """``input_shape`` as a tuple once it, ``num_classes`` and ``dropout`` suit ``spec``; else one-line ModelError."""
    shape = tuple(int(n) if isinstance(n, Integral) and not isinstance(n, bool) else n for n in input_shape)
    sides_ok = all(side is None and spec.variable_size or isinstance(side, int) and side > 0 for side in shape[:2])
    channels_ok = len(shape) == 3 and isinstance(shape[2], int) and shape[2] > 0 and (
        spec.channels is None or shape[2] in spec.channels)
    if not (sides_ok and channels_ok):
        channels = "channels" if spec.channels is None else " or ".join(str(c) for c in spec.channels)
        raise ModelError(f"model {spec.name!r}: input_shape must be (height, width, {channels}) of positive ints, "
                         f"got {shape}")
    check_min_size(spec.name, shape, spec.min_size)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ModelError(f"model {spec.name!r}: num_classes must be an int of at least 2, got {num_classes!r}")
    if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ModelError(f"model {spec.name!r}: dropout must be in [0, 1), got {dropout!r}")
    return shape


def check_min_size(name: str, shape: tuple, min_size: int) -> None:
    """One-line ModelError when a known side of ``shape`` is under ``min_size`` (also for minima that options set)."""
    sides = [side for side in shape[:2] if side is not None]
    if sides and min(sides) < min_size:
        raise ModelError(f"model {name!r}: input height and width must be at least {min_size}x{min_size}, "
                         f"got {'x'.join(str(side) for side in shape[:2])}")
