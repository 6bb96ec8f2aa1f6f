"""Channel and spatial attention blocks: Squeeze-and-Excitation and CBAM.

Both are ``keras.layers.Layer`` subclasses registered under the ``fer_keras`` package, so a
model that contains them round-trips through ``model.save()`` / ``keras.models.load_model()``
without ``custom_objects`` once this module has been imported. Inputs are channels-last
feature maps ``(batch, height, width, channels)``; outputs have the input's shape. The math
runs in the layer's compute dtype, so the blocks work under ``mixed_float16``.

References: Hu et al., "Squeeze-and-Excitation Networks" (CVPR 2018); Woo et al.,
"CBAM: Convolutional Block Attention Module" (ECCV 2018).
"""

from __future__ import annotations

import keras
from keras import ops

from fer_keras.errors import ModelError

__all__ = ["CBAM", "SqueezeExcite"]


def _hidden_units(channels: int, reduction: int) -> int:
    return max(1, channels // reduction)


def _channel_mlp(layer, channels: int, names: tuple[str, str], output_activation):
    """The built two-layer MLP ``C -> C/r -> C`` (ReLU between) that SE and CBAM share."""
    hidden = keras.layers.Dense(
        _hidden_units(channels, layer.reduction),
        activation="relu",
        kernel_initializer=layer.kernel_initializer,
        dtype=layer.dtype_policy,
        name=names[0],
    )
    output = keras.layers.Dense(
        channels,
        activation=output_activation,
        kernel_initializer=layer.kernel_initializer,
        dtype=layer.dtype_policy,
        name=names[1],
    )
    hidden.build((None, channels))
    output.build((None, hidden.units))
    return hidden, output


def _check_reduction(reduction: int) -> int:
    if not isinstance(reduction, int) or isinstance(reduction, bool) or reduction < 1:
        raise ModelError(f"attention reduction ratio must be a positive integer, got {reduction!r}")
    return reduction


@keras.saving.register_keras_serializable(package="fer_keras")
class SqueezeExcite(keras.layers.Layer):
    """Squeeze-and-Excitation: rescale each channel by a learned gate in (0, 1).

    ``x * sigmoid(W2 relu(W1 mean_hw(x)))`` with ``W1: C -> C/r`` and ``W2: C/r -> C``
    (both with biases), i.e. ``2*C*C/r + C + C/r`` parameters.

    Args:
        reduction: the ratio ``r`` between the channel count and the bottleneck width
            (at least one unit). Defaults to 16, as in the SE paper.
        kernel_initializer: initializer of both dense kernels. Defaults to Glorot uniform.
        **kwargs: standard ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, reduction: int = 16, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.reduction = _check_reduction(reduction)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.squeeze, self.excite = _channel_mlp(self, input_shape[-1], ("squeeze", "excite"), "sigmoid")

    def scale(self, inputs):
        """The per-channel gates, shape ``(batch, 1, 1, channels)``, each in (0, 1)."""
        pooled = ops.mean(inputs, axis=(1, 2))
        gates = self.excite(self.squeeze(pooled))
        return ops.expand_dims(ops.expand_dims(gates, 1), 1)

    def call(self, inputs):
        return inputs * self.scale(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "reduction": self.reduction,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="fer_keras")
class CBAM(keras.layers.Layer):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Channel attention: ``Mc = sigmoid(MLP(avgpool_hw(x)) + MLP(maxpool_hw(x)))`` with one
    MLP ``C -> C/r -> C`` (ReLU between, biases) shared by both descriptors; ``x' = x * Mc``.
    Spatial attention: ``Ms = sigmoid(conv_kxk([mean_c(x'), max_c(x')]))`` with a single
    ``k x k x 2 -> 1`` convolution without bias (as in the Keras port of the authors' code;
    the authors' PyTorch code adds a BatchNorm here, omitted); output ``x' * Ms``.
    Parameters: ``2*C*C/r + C + C/r`` (MLP) ``+ 2*k*k`` (conv).

    Args:
        reduction: the MLP bottleneck ratio ``r`` (at least one unit). Defaults to 16.
        spatial_kernel_size: side ``k`` of the spatial-attention convolution. Defaults to 7.
        kernel_initializer: initializer of the MLP and conv kernels. Defaults to Glorot uniform.
        **kwargs: standard ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).
    """

    def __init__(
        self,
        reduction: int = 16,
        spatial_kernel_size: int = 7,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.reduction = _check_reduction(reduction)
        self.spatial_kernel_size = spatial_kernel_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.mlp_hidden, self.mlp_output = _channel_mlp(self, channels, ("mlp_hidden", "mlp_output"), None)
        self.spatial_conv = keras.layers.Conv2D(
            1,
            self.spatial_kernel_size,
            padding="same",
            activation="sigmoid",
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="spatial_conv",
        )
        self.spatial_conv.build((*input_shape[:-1], 2))

    def channel_attention(self, inputs):
        """The channel gates ``Mc``, shape ``(batch, 1, 1, channels)``, each in (0, 1)."""
        average = self.mlp_output(self.mlp_hidden(ops.mean(inputs, axis=(1, 2))))
        maximum = self.mlp_output(self.mlp_hidden(ops.max(inputs, axis=(1, 2))))
        gates = ops.sigmoid(average + maximum)
        return ops.expand_dims(ops.expand_dims(gates, 1), 1)

    def spatial_attention(self, inputs):
        """The spatial map ``Ms``, shape ``(batch, height, width, 1)``, each in (0, 1)."""
        descriptors = ops.concatenate(
            [ops.mean(inputs, axis=-1, keepdims=True), ops.max(inputs, axis=-1, keepdims=True)],
            axis=-1,
        )
        return self.spatial_conv(descriptors)

    def call(self, inputs):
        refined = inputs * self.channel_attention(inputs)
        return refined * self.spatial_attention(refined)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "reduction": self.reduction,
                "spatial_kernel_size": self.spatial_kernel_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
