"""Backbones: builds, parameter counts, fine-tune modes, frozen BN, preprocessing, weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras.applications import imagenet_utils

from fer_keras.models import weights
from fer_keras.models.architectures.backbones import (
    BackbonePreprocess,
    find_backbone,
    last_block_layers,
    set_fine_tune_mode,
)
from fer_keras.errors import ModelError
from fer_keras.models.registry import build_model
from fer_keras.models.architectures.resnet import basic_resnet
from tests.harness import check_layer

RNG = np.random.default_rng(0)


def images(n: int, size: int, channels: int) -> np.ndarray:
    return RNG.uniform(0, 255, (n, size, size, channels)).astype("float32")


def trainable_layer_names(model: keras.Model) -> set[str]:
    """Names of the layers (backbone layers included) that contribute trainable weights."""
    backbone, _ = find_backbone(model)
    inner = {layer.name for layer in backbone.layers if layer.trainable_weights}
    outer = {layer.name for layer in model.layers if layer is not backbone and layer.trainable_weights}
    return inner | outer


def n_trainable(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(scope="module")
def vgg16():
    return build_model("vgg16", (32, 32, 1), 7, fine_tune="full", dense_units=16, dropout=0.5)


# ----------------------------------------------------------------------------- preprocessing


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_layer_equals_keras_preprocess_input(mode):
    x = images(2, 4, 3)
    expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(BackbonePreprocess(mode)(x).numpy(), expected, rtol=1e-5, atol=1e-4)


def test_preprocess_layer_round_trips_through_save():
    for layer in check_layer(BackbonePreprocess("caffe", name="pre"), (1, 4, 4, 3), (1, 4, 4, 3), expected_params=0,
                             inputs=images(1, 4, 3)):
        assert (layer.mode, layer.name) == ("caffe", "pre")


def test_preprocess_layer_rejects_unknown_mode():
    with pytest.raises(ModelError, match="mode 'imagenet' unknown"):
        BackbonePreprocess("imagenet")


# ----------------------------------------------------------------------------- sizes and counts


def test_wrapped_backbone_count_equals_keras_applications(vgg16):
    keras_vgg16 = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    head = (512 * 16 + 16) + (16 * 7 + 7)
    assert vgg16.count_params() == keras_vgg16.count_params() + head


# ----------------------------------------------------------------------------- fine-tune modes


VGG_CONVS = {f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for c in range(1, n + 1)}


def test_vgg16_fine_tune_modes_choose_trainable_layers(vgg16):
    head = {"head_dense", "predictions"}
    try:
        set_fine_tune_mode(vgg16, "head")
        assert trainable_layer_names(vgg16) == head
        set_fine_tune_mode(vgg16, "head_plus_last_block")
        assert trainable_layer_names(vgg16) == head | {"block5_conv1", "block5_conv2", "block5_conv3"}
        set_fine_tune_mode(vgg16, "full")
        assert trainable_layer_names(vgg16) == head | VGG_CONVS
        assert n_trainable(vgg16) == vgg16.count_params()
    finally:
        set_fine_tune_mode(vgg16, "full")


def test_vgg16_head_has_dropout_and_float32_softmax(vgg16):
    assert vgg16.get_layer("head_dropout").rate == 0.5
    assert vgg16.get_layer("gray_to_rgb") is not None
    assert vgg16.get_layer("backbone_preprocess").mode == "caffe"
    out = keras.ops.convert_to_numpy(vgg16(images(2, 32, 1), training=False))
    assert out.shape == (2, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet18_head_plus_last_block_freezes_its_batchnorm_by_default():
    model = build_model("resnet18", (32, 32, 3), 7)
    set_fine_tune_mode(model, "head_plus_last_block")
    backbone, spec = find_backbone(model)
    last = {layer.name for layer in last_block_layers(backbone, spec.last_block)}
    names = trainable_layer_names(model)
    assert {"conv5_block1_1_conv", "conv5_block1_0_conv", "conv5_block2_2_conv", "predictions"} <= names
    assert all(name in last or name == "predictions" for name in names)
    assert not any(name.endswith("_bn") for name in names)
    set_fine_tune_mode(model, "head_plus_last_block", freeze_batchnorm=False)
    assert {"conv5_block1_1_bn", "conv5_block2_2_bn"} <= trainable_layer_names(model)
    assert "conv4_block2_2_bn" not in trainable_layer_names(model)
    set_fine_tune_mode(model, "full", freeze_batchnorm=True)
    assert "conv1_conv" in trainable_layer_names(model) and "conv1_bn" not in trainable_layer_names(model)


def test_frozen_batchnorm_runs_in_inference_mode_then_unfreezes():
    """Two-phase schedule on one model: head (BN statistics fixed), then full (they move)."""
    with pytest.warns(UserWarning, match="randomly initialised backbone"):
        model = build_model("resnet18", (32, 32, 3), 3, fine_tune="head")
    backbone, _ = find_backbone(model)
    x, y = images(4, 32, 3), np.array([0, 1, 2, 0])
    stem_bn, last_bn = backbone.get_layer("conv1_bn"), backbone.get_layer("conv5_block2_2_bn")
    head_kernel = model.get_layer("predictions").kernel.numpy()
    stem_mean, last_mean = stem_bn.moving_mean.numpy(), last_bn.moving_mean.numpy()
    conv5_kernel = backbone.get_layer("conv5_block2_2_conv").kernel.numpy()

    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(stem_bn.moving_mean.numpy(), stem_mean)
    np.testing.assert_array_equal(last_bn.moving_mean.numpy(), last_mean)
    np.testing.assert_array_equal(backbone.get_layer("conv5_block2_2_conv").kernel.numpy(), conv5_kernel)
    assert not np.array_equal(model.get_layer("predictions").kernel.numpy(), head_kernel)

    set_fine_tune_mode(model, "head_plus_last_block")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(last_bn.moving_mean.numpy(), last_mean)
    assert not np.array_equal(backbone.get_layer("conv5_block2_2_conv").kernel.numpy(), conv5_kernel)

    set_fine_tune_mode(model, "full")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.train_on_batch(x, y)
    assert not np.array_equal(stem_bn.moving_mean.numpy(), stem_mean)


def test_inception_v3_last_block_is_mixed9_and_mixed10():
    model = build_model("inception_v3", (75, 75, 3), 7, fine_tune="full")
    backbone, spec = find_backbone(model)
    order = [layer.name for layer in backbone.layers]
    last = last_block_layers(backbone, spec.last_block)
    assert {"mixed9", "mixed10"} <= {layer.name for layer in last}
    assert "mixed8" not in {layer.name for layer in last}
    assert len(last) == len(order) - order.index("mixed8") - 1 == 62  # the Keras guide's "first 249 layers frozen"
    set_fine_tune_mode(model, "head_plus_last_block")
    convs = [layer for layer in backbone.layers if isinstance(layer, keras.layers.Conv2D) and layer.trainable_weights]
    assert len(convs) == 18  # 9 convolutions in each of mixed9 and mixed10
    assert all(order.index(layer.name) > order.index("mixed8") for layer in convs)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "shape", "options", "message"),
    [
        ("vgg16", (32, 32, 3), {"fine_tune": "dense_only"}, "unknown fine_tune 'dense_only'"),
        ("vgg16", (32, 32, 3), {"fine_tune": "scratch", "weights": "imagenet"}, "set weights to null"),
        ("vgg16", (32, 32, 3), {"preprocess": "imagenet"}, "unknown preprocess"),
        ("vgg16", (32, 32, 3), {"dropout": 1.5}, "dropout"),
        ("vgg16", (32, 32, 4), {}, r"\(height, width, 1 or 3\)"),
        ("inception_v3", (48, 48, 3), {}, "at least 75x75"),
        ("vgg16", (32, 32, 3), {"alpha": 0.5}, "unknown option alpha"),
    ],
)
def test_bad_options_are_one_line_model_errors(name, shape, options, message):
    with pytest.raises(ModelError, match=message) as caught:
        build_model(name, shape, 7, **options)
    assert "\n" not in str(caught.value)


def test_set_fine_tune_mode_errors(vgg16):
    with pytest.raises(ModelError, match="unknown fine_tune 'all'"):
        set_fine_tune_mode(vgg16, "all")
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="plain")
    with pytest.raises(ModelError, match="no known backbone"):
        set_fine_tune_mode(plain, "head")


def test_missing_imagenet_weights_fail_at_build(empty_search):
    with pytest.raises(ModelError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        build_model("vgg16", (32, 32, 3), 7, weights="imagenet")


# ----------------------------------------------------------------------------- weights


def test_imagenet_weights_load_from_keras_cache_and_from_path(empty_search):
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    cache = empty_search / "keras_home" / "models"
    cache.mkdir(parents=True)
    file = cache / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    source.save(file)
    for chosen in ("imagenet", str(file)):
        model = build_model("vgg16", (32, 32, 1), 7, weights=chosen, fine_tune="head")
        backbone, _ = find_backbone(model)
        for conv in ("block1_conv1", "block5_conv3"):
            np.testing.assert_array_equal(backbone.get_layer(conv).kernel.numpy(), source.get_layer(conv).kernel.numpy())


def test_resnet18_weights_from_fer_keras_weights_dir(empty_search, monkeypatch):
    source = basic_resnet((32, 32, 3), (2, 2, 2, 2), "resnet18")
    folder = empty_search / "weights"
    folder.mkdir()
    source.save_weights(folder / "resnet18_imagenet_notop.weights.h5")
    monkeypatch.setenv(weights.WEIGHTS_DIR_ENV, str(folder))
    model = build_model("resnet18", (32, 32, 3), 7, weights="imagenet", fine_tune="head_plus_last_block")
    backbone, _ = find_backbone(model)
    np.testing.assert_array_equal(backbone.get_layer("conv1_conv").kernel.numpy(), source.get_layer("conv1_conv").kernel.numpy())
    np.testing.assert_array_equal(backbone.get_layer("conv5_block2_2_bn").moving_variance.numpy(),
                                  source.get_layer("conv5_block2_2_bn").moving_variance.numpy())


# ----------------------------------------------------------------------------- every backbone builds

_SLOW = {"resnet101", "resnet152", "resnet101v2", "resnet152v2", "densenet169", "densenet201"}
_SMOKE = ["vgg19", "resnet50", "resnet50v2", "densenet121", "efficientnetb0", *sorted(_SLOW)]
_PREPROCESS = {"vgg19": "caffe", "resnet50": "caffe", "resnet50v2": "tf", "densenet121": "torch", "efficientnetb0": None}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW else n for n in _SMOKE]
)
def test_backbone_builds_small_and_predicts(name):
    model = build_model(name, (32, 32, 1), 5, preprocess="backbone")
    backbone, spec = find_backbone(model)
    assert backbone.name == name
    has_preprocess = "backbone_preprocess" in {layer.name for layer in model.layers}
    assert has_preprocess == (spec.preprocess is not None)
    if name in _PREPROCESS:
        assert spec.preprocess == _PREPROCESS[name]
    out = keras.ops.convert_to_numpy(model(images(1, 32, 1), training=False))
    assert out.shape == (1, 5)
    np.testing.assert_allclose(out.sum(), 1.0, rtol=1e-5)
