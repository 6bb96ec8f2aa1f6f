"""The classifier heads every model ends in: dense or pooled, then the float32 softmax named ``predictions``.

Every model is its features, then one of these heads, ending in the float32 softmax named
:data:`HEAD_NAME` that :func:`fer_keras.models.from_run.replace_head` finds by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

#: Name of every model's float32 softmax layer; :func:`fer_keras.models.from_run.replace_head` finds it by name.
HEAD_NAME = "predictions"


def softmax_output(x, num_classes: int, kernel_initializer: str = "glorot_uniform"):
    """The N-way float32 softmax every model ends in (mixed precision keeps it float32), named :data:`HEAD_NAME`.

    ``kernel_initializer="zeros"`` starts every image at the uniform distribution (loss ln N).
    """
    return layers.Dense(int(num_classes), activation="softmax", kernel_initializer=kernel_initializer,
                        dtype="float32", name=HEAD_NAME)(x)


def dense_head(x, units: Sequence[int], dropout: float, num_classes: int, kernel_initializer: str = "glorot_uniform",
               output_initializer: str = "glorot_uniform"):
    """Flatten → (Dense ReLU ``fc<i>`` → Dropout) per entry of ``units`` → :func:`softmax_output`.

    ``kernel_initializer`` draws the hidden dense layers, ``output_initializer`` the softmax layer.
    """
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation="relu", kernel_initializer=kernel_initializer, name=f"fc{i}")(x)
        x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return softmax_output(x, num_classes, output_initializer)


def pooled_head(x, num_classes: int, dropout: float = 0.0, dense_units: int | None = None):
    """Global average pooling → Dropout (when > 0) → Dense ReLU (when ``dense_units``) → :func:`softmax_output`."""
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout > 0:
        x = layers.Dropout(float(dropout), name="head_dropout")(x)
    if dense_units is not None:
        x = layers.Dense(int(dense_units), activation="relu", name="head_dense")(x)
    return softmax_output(x, num_classes)
