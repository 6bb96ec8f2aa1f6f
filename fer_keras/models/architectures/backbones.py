"""ImageNet backbones with an N-way head and the KDEF paper's four fine-tune modes.

Every model here is ``input (H, W, 1 or 3), float 0..255`` → grayscale replicated to 3
channels → the backbone's own input scaling (:class:`BackbonePreprocess`, optional) →
headless backbone (one nested ``keras.Model``, named like the registry entry) → global
average pooling → dropout → optional hidden dense → dense softmax (float32).

Backbones: vgg16, vgg19, resnet50/101/152, resnet50v2/101v2/152v2, inception_v3,
densenet121/169/201, efficientnetb0 (all ``keras.applications``), and resnet18/resnet34
from :mod:`fer_keras.models.architectures.resnet` (the ResNet paper's basic blocks; Keras ships neither).
mobilenet_v2 lives in :mod:`fer_keras.models.architectures.mobilenet` and reuses this machinery. Each
backbone's facts sit in its :class:`BackboneSpec`: builder, input scaling, last block and
ImageNet weights file (name and URL, which :mod:`fer_keras.models.weights` looks for offline).

Fine-tune modes (``fine_tune``):

- ``head``: the whole backbone is frozen; only the new head trains.
- ``head_plus_last_block``: the backbone's last block (see ``BackboneSpec.last_block``,
  e.g. VGG ``block5_``, ResNet ``conv5_``, InceptionV3 mixed9 + mixed10) trains with the head.
- ``full``: everything trains (starting from the loaded weights).
- ``scratch``: ``weights`` must be null; everything trains from random initialisation.

Batch normalisation: a BatchNormalization layer whose ``trainable`` is False runs in
inference mode in Keras 3 (moving statistics used, never updated). By default
(``freeze_batchnorm=None``) every BN layer of the backbone is frozen whenever any part of
the backbone is frozen (``head`` and ``head_plus_last_block``), so in
``head_plus_last_block`` the last block's convolutions train while its BN layers keep the
ImageNet statistics and scale/offset. That is what the Keras transfer-learning guide gets
by calling the base with ``training=False``, except that the guide's baked-in flag would
also keep BN in inference mode after unfreezing, whereas here nothing is baked into the
graph: :func:`set_fine_tune_mode` can switch a built (or loaded) model between modes, e.g.
train the head, then switch to ``full`` and recompile with a lower learning rate. Pass
``freeze_batchnorm=True`` to keep BN frozen in every mode (the guide's recipe), or
``False`` to let BN layers train whenever their block does.

``bn_momentum`` sets the moving-average momentum of every BN layer of the backbone. The
``keras.applications`` models use 0.999, which forgets its starting statistics only after
thousands of steps: from random weights (``weights: null``) a short schedule leaves them mostly
at their start, and at test time every image then reads as one class (on the real JAFFE at 96
px, 900 steps: training accuracy 88%, test 14%, all one class). 0.99 suits schedules of a few
hundred to a few thousand steps; None keeps the backbone's own.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers, ops

from fer_keras.models.heads import pooled_head
from fer_keras.errors import ModelError
from fer_keras.models.registry import register_model
from fer_keras.models.architectures.resnet import basic_resnet
from fer_keras.models.weights import existing_weights_file, find_weights_file, load_weights_file

#: The KDEF paper's fine-tune modes.
FINE_TUNE_MODES = ("head", "head_plus_last_block", "full", "scratch")
#: ``preprocess`` option values.
PREPROCESS_OPTIONS = ("backbone", "none")
#: Where keras.applications downloads most of its weight files from.
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
#: The stem suffix of those files (``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``).
TF_KERNELS = "_weights_tf_dim_ordering_tf_kernels"

#: ``weights_file(include_top, rows, **variant)`` -> (file name, download URL or None).
WeightsFile = Callable[..., tuple[str, str | None]]


@keras.saving.register_keras_serializable(package="fer_keras")
class BackbonePreprocess(layers.Layer):
    """The input scaling of ``keras.applications``' ``preprocess_input``, as a layer.

    Takes RGB pixels in 0..255 and applies the scaling an ImageNet backbone was trained
    with, so a saved model carries its own preprocessing.

    Args:
        mode: ``"caffe"`` (RGB→BGR, minus the ImageNet mean per channel; VGG, ResNet v1),
            ``"tf"`` (``x / 127.5 - 1``; ResNet v2, InceptionV3, MobileNetV2) or
            ``"torch"`` (``x / 255``, minus the ImageNet mean, divided by its standard
            deviation, RGB; DenseNet, and the ResNet18/34 built here).
    """

    MODES = ("caffe", "tf", "torch")
    _CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
    _TORCH_MEAN = (0.485, 0.456, 0.406)
    _TORCH_STD = (0.229, 0.224, 0.225)

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ModelError(f"BackbonePreprocess mode {mode!r} unknown; expected one of {', '.join(self.MODES)}")
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(self._CAFFE_MEAN_BGR, dtype=x.dtype)
        mean = ops.convert_to_tensor(self._TORCH_MEAN, dtype=x.dtype)
        std = ops.convert_to_tensor(self._TORCH_STD, dtype=x.dtype)
        return (x / 255.0 - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@dataclass(frozen=True)
class BackboneSpec:
    """Everything known about one headless backbone: build, input scaling, last block, weights.

    Args:
        name: registry name; also the nested backbone model's name.
        factory: ``factory(input_shape, name, **variant)`` → headless, randomly initialised
            ``keras.Model`` taking 3-channel input.
        preprocess: :class:`BackbonePreprocess` mode for ``preprocess="backbone"``, or
            None when the backbone scales its own input (EfficientNet).
        last_block: the last block's first layer: a layer-name prefix, or
            ``"after:<layer>"`` for "every layer after <layer>" (InceptionV3's blocks
            have auto-generated layer names).
        min_size: smallest input height/width the architecture accepts.
        weights_file: ``weights_file(include_top, rows, **variant)`` -> the file name of its
            ImageNet weights and their download URL (None when nobody publishes them), for
            input height ``rows`` and the constructor's ``variant`` arguments (ignored where
            they do not change the file); None when no ImageNet weights are known.
    """

    name: str
    factory: Callable[..., keras.Model]
    preprocess: str | None
    last_block: str
    min_size: int = 32
    weights_file: WeightsFile | None = None


#: Every backbone a built model may contain, by name (mobilenet.py adds its own).
BACKBONES: dict[str, BackboneSpec] = {}


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Make ``spec`` known to :func:`set_fine_tune_mode` (registering a model is separate)."""
    BACKBONES[spec.name] = spec
    return spec


# --------------------------------------------------------------------------- ImageNet weights


def keras_file(url_folder: str, stem: str) -> WeightsFile:
    """keras.applications' naming: ``<stem>.h5`` with the top, ``<stem>_notop.h5`` without."""

    def weights_file(include_top: bool = False, rows: int = 224, **variant) -> tuple[str, str]:
        file_name = f"{stem}.h5" if include_top else f"{stem}_notop.h5"
        return file_name, url_folder + file_name

    return weights_file


def tf_kernels_file(url_folder: str, name: str) -> WeightsFile:
    """``<name>_weights_tf_dim_ordering_tf_kernels[_notop].h5`` under ``KERAS_WEIGHTS_URL/<url_folder>/``."""
    return keras_file(f"{KERAS_WEIGHTS_URL}{url_folder}/", f"{name}{TF_KERNELS}")


def unpublished_file(name: str) -> WeightsFile:
    """``<name>_imagenet[_notop].weights.h5`` with no URL: Keras publishes no such weights."""

    def weights_file(include_top: bool = False, rows: int = 224, **variant) -> tuple[str, None]:
        return f"{name}_imagenet{'' if include_top else '_notop'}.weights.h5", None

    return weights_file


#: The md5 each ``keras.applications`` model passes to ``get_file`` for its ImageNet file, by file name
#: (copied from Keras 3.15's sources; a test finds each in the installed Keras). MobileNetV2's files
#: have none there, and so none here: Keras checks nothing for them either.
KERAS_FILE_HASHES = {
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": "64373286793e3c8b2b4e3219cbf3544b",
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5": "cbe5617147190e668d6c5d5026f83318",
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": "253f8cb515780f3b799900260a226db6",
    "resnet50_weights_tf_dim_ordering_tf_kernels.h5": "2cb95161c43110f7111970584f804107",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101_weights_tf_dim_ordering_tf_kernels.h5": "f1aeb4b969a6efcfb50fad2f0c20cfc5",
    "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5": "88cf7a10940856eca736dc7b7e228a21",
    "resnet152_weights_tf_dim_ordering_tf_kernels.h5": "100835be76be38e30d865e96f2aaae62",
    "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5": "ee4c566cf9a93f14d82f913c2dc6dd0c",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5": "3ef43a0b657b3be2300d5770ece849e0",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5": "fac2f116257151a9d068a22e544a4917",
    "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5": "6343647c601c52e1368623803854d971",
    "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5": "c0ed64b8031c3730f411d2eb4eea35b5",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5": "a49b44d1979771252814e80f8ec446f9",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5": "ed17cf2e0169df9d443503ef94b23b33",
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": "9a0d58056eeedaa3f26cb7ebd46da564",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": "bcbd6486424b2319ff4ef7d526e38f63",
    "densenet121_weights_tf_dim_ordering_tf_kernels.h5": "9d60b8095a5708f2dcce2bca79d332c7",
    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5": "30ee3e1110167f948a6b9946edeeb738",
    "densenet169_weights_tf_dim_ordering_tf_kernels.h5": "d699b8f76981ab1b30698df4c175e90b",
    "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5": "b8c4d4c20dd625c148057b9ff1c1176b",
    "densenet201_weights_tf_dim_ordering_tf_kernels.h5": "1ceb130c1ea1b78c3bf6114dbdfd8807",
    "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5": "c13680b51ded0fb44dff2d8f86ac8bb1",
    "efficientnetb0.h5": "902e53a9f72be733fc0bcb005b3ebbac",
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
}


def keras_weights_file(model_name: str, include_top: bool = False, rows: int = 224, **variant) -> tuple[str, str | None]:
    """The file name of a backbone's ImageNet weights and its URL (None when Keras has none).

    ``rows`` (input height) and ``variant`` (e.g. MobileNetV2's ``alpha``) matter only
    where the backbone's ``weights_file`` uses them.
    """
    spec = BACKBONES.get(model_name)
    if spec is None or spec.weights_file is None:
        known = sorted(name for name, known_spec in BACKBONES.items() if known_spec.weights_file is not None)
        raise ModelError(f"no ImageNet weights are known for model {model_name!r}; known: {', '.join(known)}")
    return spec.weights_file(include_top, rows=rows, **variant)


def resolve_imagenet_weights(
    model_name: str,
    include_top: bool = False,
    path: str | os.PathLike | None = None,
    rows: int = 224,
    **variant,
) -> str:
    """A local weights file for backbone ``model_name``: ``path`` if given, else the first cached copy,
    else downloaded with the hash Keras checks for that file (:data:`KERAS_FILE_HASHES`).

    Raises :class:`ModelError` (one line) when ``path`` does not exist or no folder of
    :func:`fer_keras.models.weights.search_dirs` holds the backbone's file.
    """
    if path is not None:
        return existing_weights_file(path)
    file_name, url = keras_weights_file(model_name, include_top, rows=rows, **variant)
    return find_weights_file(model_name, file_name, url, KERAS_FILE_HASHES.get(file_name))


def load_backbone_weights(
    backbone: keras.Model,
    model_name: str,
    weights: str | os.PathLike | None,
    rows: int = 224,
    **variant,
) -> str | None:
    """Fill a headless backbone from ``weights`` (None, 'imagenet' or a path); returns the file used."""
    if weights is None:
        return None
    path = None if str(weights) == "imagenet" else weights
    resolved = resolve_imagenet_weights(model_name, include_top=False, path=path, rows=rows, **variant)
    load_weights_file(backbone, resolved)
    return resolved


# --------------------------------------------------------------------------- the backbones


def _application(constructor: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
    """A factory calling a keras.applications constructor headless and without weights."""

    def factory(input_shape, name, **variant):
        return constructor(include_top=False, weights=None, input_shape=input_shape, name=name, **variant)

    return factory


_apps = keras.applications
_tf = tf_kernels_file
_KERAS_BACKBONES = (
    BackboneSpec("vgg16", _application(_apps.VGG16), "caffe", "block5_", weights_file=_tf("vgg16", "vgg16")),
    BackboneSpec("vgg19", _application(_apps.VGG19), "caffe", "block5_", weights_file=_tf("vgg19", "vgg19")),
    BackboneSpec("resnet50", _application(_apps.ResNet50), "caffe", "conv5_", weights_file=_tf("resnet", "resnet50")),
    BackboneSpec("resnet101", _application(_apps.ResNet101), "caffe", "conv5_", weights_file=_tf("resnet", "resnet101")),
    BackboneSpec("resnet152", _application(_apps.ResNet152), "caffe", "conv5_", weights_file=_tf("resnet", "resnet152")),
    BackboneSpec("resnet50v2", _application(_apps.ResNet50V2), "tf", "conv5_", weights_file=_tf("resnet", "resnet50v2")),
    BackboneSpec("resnet101v2", _application(_apps.ResNet101V2), "tf", "conv5_", weights_file=_tf("resnet", "resnet101v2")),
    BackboneSpec("resnet152v2", _application(_apps.ResNet152V2), "tf", "conv5_", weights_file=_tf("resnet", "resnet152v2")),
    BackboneSpec("inception_v3", _application(_apps.InceptionV3), "tf", "after:mixed8", min_size=75,
                 weights_file=_tf("inception_v3", "inception_v3")),
    BackboneSpec("densenet121", _application(_apps.DenseNet121), "torch", "conv5_", weights_file=_tf("densenet", "densenet121")),
    BackboneSpec("densenet169", _application(_apps.DenseNet169), "torch", "conv5_", weights_file=_tf("densenet", "densenet169")),
    BackboneSpec("densenet201", _application(_apps.DenseNet201), "torch", "conv5_", weights_file=_tf("densenet", "densenet201")),
    # EfficientNet's model starts with its own Rescaling + Normalization layers.
    BackboneSpec("efficientnetb0", _application(_apps.EfficientNetB0), None, "block7a_",
                 weights_file=keras_file("https://storage.googleapis.com/keras-applications/", "efficientnetb0")),
    BackboneSpec("resnet18", lambda input_shape, name: basic_resnet(input_shape, (2, 2, 2, 2), name), "torch", "conv5_",
                 weights_file=unpublished_file("resnet18")),
    BackboneSpec("resnet34", lambda input_shape, name: basic_resnet(input_shape, (3, 4, 6, 3), name), "torch", "conv5_",
                 weights_file=unpublished_file("resnet34")),
)


# --------------------------------------------------------------------------- model building


def _check_options(spec: BackboneSpec, weights, fine_tune, dense_units, preprocess):
    """The transfer options (input shape, classes and dropout pass the registry's check first)."""
    if fine_tune not in FINE_TUNE_MODES:
        raise ModelError(f"model {spec.name!r}: unknown fine_tune {fine_tune!r}; expected one of {', '.join(FINE_TUNE_MODES)}")
    if fine_tune == "scratch" and weights is not None:
        raise ModelError(f"model {spec.name!r}: fine_tune 'scratch' trains from random initialisation; "
                         f"set weights to null (got {weights!r})")
    if preprocess not in PREPROCESS_OPTIONS:
        raise ModelError(f"model {spec.name!r}: unknown preprocess {preprocess!r}; expected one of {', '.join(PREPROCESS_OPTIONS)}")
    if dense_units is not None and int(dense_units) < 1:
        raise ModelError(f"model {spec.name!r}: dense_units must be a positive integer or null, got {dense_units}")


def build_transfer_model(
    spec: BackboneSpec,
    input_shape: tuple[int, int, int],
    num_classes: int,
    weights: str | None = None,
    fine_tune: str = "full",
    dropout: float = 0.0,
    dense_units: int | None = None,
    preprocess: str = "backbone",
    freeze_batchnorm: bool | None = None,
    bn_momentum: float | None = None,
    **variant,
) -> keras.Model:
    """Backbone ``spec`` with an N-way softmax head, in fine-tune mode ``fine_tune``.

    Args:
        weights: None (random init), ``"imagenet"`` (found offline, see
            :mod:`fer_keras.models.weights`) or a weights file path.
        preprocess: ``"backbone"`` puts the backbone's own ImageNet input scaling inside
            the model; ``"none"`` feeds the raw 0..255 pixels to the backbone.
        freeze_batchnorm, bn_momentum: see the module docstring.
        variant: extra constructor arguments of the backbone (MobileNetV2's ``alpha``).
    """
    input_shape = tuple(int(v) for v in input_shape)
    _check_options(spec, weights, fine_tune, dense_units, preprocess)
    if weights is None and fine_tune in ("head", "head_plus_last_block"):
        warnings.warn(f"{spec.name}: fine_tune {fine_tune!r} freezes a randomly initialised backbone (weights is null)", stacklevel=3)
    height, width, channels = input_shape
    try:
        backbone = spec.factory(input_shape=(height, width, 3), name=spec.name, **variant)
    except ValueError as error:
        raise ModelError(f"model {spec.name!r}: cannot build backbone for input {input_shape}: {' '.join(str(error).split())}") from None
    load_backbone_weights(backbone, spec.name, weights, rows=height, **variant)
    if bn_momentum is not None:
        if not 0.0 < float(bn_momentum) < 1.0:
            raise ModelError(f"model {spec.name!r}: bn_momentum must be between 0 and 1 (exclusive), got {bn_momentum}")
        for layer in backbone._flatten_layers():
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(bn_momentum)

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if channels == 1:
        x = layers.Concatenate(axis=-1, name="gray_to_rgb")([x, x, x])
    if preprocess == "backbone" and spec.preprocess is not None:
        x = BackbonePreprocess(spec.preprocess, name="backbone_preprocess")(x)
    outputs = pooled_head(backbone(x), num_classes, dropout, dense_units)
    model = keras.Model(inputs, outputs, name=f"{spec.name}_classifier")
    set_fine_tune_mode(model, fine_tune, freeze_batchnorm=freeze_batchnorm)
    return model


def find_backbone(model: keras.Model) -> tuple[keras.Model, BackboneSpec]:
    """The nested backbone of a model built here, and its spec."""
    for layer in model.layers:
        if isinstance(layer, keras.Model) and layer.name in BACKBONES:
            return layer, BACKBONES[layer.name]
    raise ModelError(f"model {model.name!r} has no known backbone; known: {', '.join(sorted(BACKBONES))}")


def last_block_layers(backbone: keras.Model, last_block: str) -> list[keras.layers.Layer]:
    """The backbone layers from the start of its last block to its output."""
    names = [layer.name for layer in backbone.layers]
    if last_block.startswith("after:"):
        anchor = last_block.split(":", 1)[1]
        start = names.index(anchor) + 1 if anchor in names else None
    else:
        start = next((i for i, name in enumerate(names) if name.startswith(last_block)), None)
    if start is None:
        raise ModelError(f"backbone {backbone.name!r} has no layer matching last block {last_block!r}")
    return backbone.layers[start:]


def set_fine_tune_mode(model: keras.Model, mode: str, freeze_batchnorm: bool | None = None) -> keras.Model:
    """Set which layers train: ``head``, ``head_plus_last_block``, ``full`` or ``scratch``.

    Works on a built or loaded model (``scratch`` on a built model just unfreezes all; it
    cannot re-initialise). Call ``model.compile(...)`` afterwards for the change to take
    effect in training. BN layers: see the module docstring.
    """
    if mode not in FINE_TUNE_MODES:
        raise ModelError(f"unknown fine_tune {mode!r}; expected one of {', '.join(FINE_TUNE_MODES)}")
    backbone, spec = find_backbone(model)
    freeze_bn = mode in ("head", "head_plus_last_block") if freeze_batchnorm is None else bool(freeze_batchnorm)
    for layer in model.layers:
        layer.trainable = True
    if mode == "head":
        backbone.trainable = False
        return model
    trainable = (
        {id(layer) for layer in last_block_layers(backbone, spec.last_block)}
        if mode == "head_plus_last_block"
        else {id(layer) for layer in backbone.layers}
    )
    for layer in backbone.layers:
        is_bn = isinstance(layer, layers.BatchNormalization)
        layer.trainable = id(layer) in trainable and not (is_bn and freeze_bn)
    return model


def model_spec_fields(spec: BackboneSpec) -> dict:
    """The registry's spec fields of a model made of backbone ``spec`` and a head."""
    return {"min_size": spec.min_size, "channels": (1, 3), "stem": "backbone", "weights_file": spec.weights_file}


def _make_builder(spec: BackboneSpec):
    def builder(
        input_shape: tuple[int, int, int],
        num_classes: int,
        weights: str | None = None,
        fine_tune: str = "full",
        dropout: float = 0.0,
        dense_units: int | None = None,
        preprocess: str = "backbone",
        freeze_batchnorm: bool | None = None,
        bn_momentum: float | None = None,
    ) -> keras.Model:
        return build_transfer_model(
            spec, input_shape, num_classes, weights=weights, fine_tune=fine_tune, dropout=dropout,
            dense_units=dense_units, preprocess=preprocess, freeze_batchnorm=freeze_batchnorm, bn_momentum=bn_momentum,
        )

    builder.__name__ = f"build_{spec.name}"
    builder.__doc__ = (
        f"{spec.name} backbone (last block from {spec.last_block!r}) with an N-way softmax head; "
        "options as in build_transfer_model."
    )
    return builder


for _spec in _KERAS_BACKBONES:
    register_backbone(_spec)
    register_model(_spec.name, **model_spec_fields(_spec))(_make_builder(_spec))
