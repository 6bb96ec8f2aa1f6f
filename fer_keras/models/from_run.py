"""Start from a model trained here: a run directory or a ``.keras`` file, head rebuilt when classes differ.

Classes are compared by name and order (the run's ``metrics.json``): a head trained on
``[anger, …, neutral]`` is kept only for exactly those classes in that order. Without the
names (a bare ``.keras`` file), only the count can be compared, and the caller says so.
"""

from __future__ import annotations

from pathlib import Path

import keras

from fer_keras.models.float32_copy import float32_model
from fer_keras.models.heads import HEAD_NAME, softmax_output
from fer_keras.errors import ModelError
from fer_keras.rundir import RunDir
from fer_keras.trained import load_keras_file, model_file_in, resolve_model



def trained_model_path(source: str | Path, key: str = "model.init_from") -> Path:
    """The ``.keras`` file a run directory (its fold-0 model), a direct path or ``pretrained`` names;
    errors name the config ``key`` that gave ``source``."""
    path = resolve_model(source)
    if path.is_dir():
        model_file = model_file_in(path)
        if model_file is None:
            raise ModelError(f"{key}: {path} holds no trained model (model_fold0.keras); is it a finished fer_keras run?")
        return model_file
    if path.suffix != ".keras" or not path.is_file():
        raise ModelError(f"{key} {str(source)!r} is neither a fer_keras run directory nor an existing .keras file")
    return path


def load_trained_model(
    source: str | Path, classes: list[str] | None = None, input_shape=None, fine_tune: str = "full"
) -> tuple[keras.Model, bool, list[str] | None]:
    """Load a trained model; returns it, whether its head was rebuilt for ``classes``, and its own classes.

    ``fine_tune="full"`` keeps every layer trainable (the cross-dataset paper fine-tunes all
    layers); ``"head"`` freezes everything but the classifier head.
    """
    path = trained_model_path(source)
    model = load_keras_file(path, ModelError)  # uncompiled: compile_model compiles it again
    if keras.mixed_precision.global_policy().name == "float32":
        model = float32_model(model)  # trained under mixed precision elsewhere: this run trains in float32
    if input_shape is not None and tuple(model.input_shape[1:]) != tuple(input_shape):
        raise ModelError(
            f"{path} expects input {tuple(model.input_shape[1:])}, the data gives {tuple(input_shape)}; "
            "set data.image_size / data.color_mode to match the starting model"
        )
    own = RunDir(path.parent).classes()
    rebuilt = classes is not None and (model.output_shape[-1] != len(classes) or (own is not None and own != list(classes)))
    if rebuilt:
        model = replace_head(model, len(classes))
    for layer in model.layers:
        layer.trainable = fine_tune == "full" or layer.name == HEAD_NAME
    return model, rebuilt, own


def replace_head(model: keras.Model, num_classes: int) -> keras.Model:
    """The same network with a new, freshly initialised N-way softmax in place of its :data:`HEAD_NAME` layer."""
    try:
        head = model.get_layer(HEAD_NAME)
    except ValueError:
        raise ModelError(f"{model.name} has no layer named {HEAD_NAME!r} (its softmax); was it built by fer_keras?") from None
    return keras.Model(model.inputs, softmax_output(head.input, num_classes), name=model.name)
