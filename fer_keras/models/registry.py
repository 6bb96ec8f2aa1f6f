"""Model registry: ``build_model(name, input_shape, num_classes, **options)``.

Every architecture module registers its builders with :func:`register_model`; a builder
takes ``input_shape`` (H, W, C), ``num_classes`` and keyword options, and returns a plain
Keras functional model ending in a float32 softmax. Unknown names or options give one
clear error line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import keras

from fer_keras.errors import ModelError
from fer_keras.options import unknown_options

Builder = Callable[..., keras.Model]
_BUILDERS: dict[str, Builder] = {}

#: Modules whose import registers builders.
_MODEL_MODULES = ("custom_cnn", "compact_cnn", "simple_cnn", "mobilenet", "vgg_attention", "backbones")



def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder`` available as ``model.name: name``."""

    def decorate(builder: Builder) -> Builder:
        _BUILDERS[name] = builder
        return builder

    return decorate


def import_models() -> None:
    """Import every architecture module so its builders and custom layers are registered."""
    for module in _MODEL_MODULES:
        importlib.import_module(f"fer_keras.models.{module}")


def model_names() -> list[str]:
    """Every registered model name."""
    import_models()
    return sorted(_BUILDERS)


def build_model(name: str, input_shape: tuple[int, int, int], num_classes: int, **options) -> keras.Model:
    """Build the registered model ``name``."""
    import_models()
    if name not in _BUILDERS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(_BUILDERS))}")
    builder = _BUILDERS[name]
    unknown, allowed = unknown_options(builder, options, fixed=("input_shape", "num_classes"))
    if unknown:
        raise ModelError(f"model {name!r}: unknown option {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return builder(input_shape=tuple(input_shape), num_classes=num_classes, **options)
