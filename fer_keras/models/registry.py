"""Model registry: one :class:`~fer_keras.models.spec.ModelSpec` per model; ``build_model(name, input_shape, num_classes, **options)``.

Every module of :mod:`fer_keras.models.architectures` registers its builders with :func:`register_model`,
which records the model's spec once; a builder takes ``input_shape`` (H, W, C), ``num_classes`` and
keyword options, and returns a plain Keras functional model ending in a float32 softmax. Every build
first passes :func:`~fer_keras.models.spec.check_model_input`; unknown names or options give one
clear error line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import keras

from fer_keras.errors import ModelError
from fer_keras.models.spec import Builder, ModelSpec, check_model_input
from fer_keras.options import unknown_options

_SPECS: dict[str, ModelSpec] = {}


def register_model(name: str, **spec) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder`` available as ``model.name: name``, with the :class:`ModelSpec` fields ``spec``."""

    def decorate(builder: Builder) -> Builder:
        _SPECS[name] = ModelSpec(name, builder, **spec)
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
    return sorted(_SPECS)


def model_spec(name: str) -> ModelSpec:
    """The spec of the registered model ``name``; one-line ModelError naming the known ones otherwise.

    >>> from fer_keras.models.registry import model_spec
    >>> spec = model_spec("custom_cnn2")
    >>> spec.min_size, spec.gradcam_layer, spec.stem
    (45, 'last_conv', 'rescale')
    """
    import_models()
    if name not in _SPECS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(_SPECS))}")
    return _SPECS[name]


def build_model(name: str, input_shape: tuple[int, int, int], num_classes: int, **options) -> keras.Model:
    """Build the registered model ``name`` once its inputs pass the spec's check.

    >>> from fer_keras.models.registry import build_model
    >>> model = build_model("simple_cnn", (48, 48, 1), 7, dense_units=32)
    >>> model.output_shape
    (None, 7)
    >>> build_model("simple_cnn", (2, 48, 1), 7)
    Traceback (most recent call last):
    ...
    fer_keras.errors.ModelError: model 'simple_cnn': input height and width must be at least 4x4, got 2x48
    """
    spec = model_spec(name)
    unknown, allowed = unknown_options(spec.builder, options, fixed=("input_shape", "num_classes"))
    if unknown:
        raise ModelError(f"model {name!r}: unknown option {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    shape = check_model_input(spec, input_shape, num_classes, options.get("dropout", 0.0))  # defaults are valid
    return spec.builder(input_shape=shape, num_classes=num_classes, **options)
