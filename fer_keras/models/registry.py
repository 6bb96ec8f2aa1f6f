"""Model registry: ``build_model(name, input_shape, num_classes, **options)``.

Every module of :mod:`fer_keras.models.architectures` registers its builders with :func:`register_model`; a builder
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


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder`` available as ``model.name: name``."""

    def decorate(builder: Builder) -> Builder:
        _BUILDERS[name] = builder
        return builder

    return decorate


def import_models() -> None:
    """Import every module of :mod:`fer_keras.models.architectures` so its builders and custom layers
    are registered (a new architecture is a new module there; no list to keep)."""
    import pkgutil

    from fer_keras.models import architectures

    for module in pkgutil.iter_modules(architectures.__path__):
        importlib.import_module(f"{architectures.__name__}.{module.name}")


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
