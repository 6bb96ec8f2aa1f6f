"""MobileNetV2 head swap: N-way softmax on the ImageNet body, grayscale, preprocessing, weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_keras.models import weights
from fer_keras.models.architectures.backbones import find_backbone, set_fine_tune_mode
from fer_keras.models.architectures.mobilenet import build_mobilenet_v2
from fer_keras.errors import ModelError
from fer_keras.models.registry import build_model
from tests.harness import check_model_round_trip

RNG = np.random.default_rng(1)


def images(n: int, size: int, channels: int) -> np.ndarray:
    return RNG.uniform(0, 255, (n, size, size, channels)).astype("float32")


@pytest.fixture(scope="module")
def small():
    """alpha 0.35, 32x32 grayscale, 7 classes, the defaults otherwise."""
    return build_model("mobilenet_v2", (32, 32, 1), 7, alpha=0.35)


def test_default_is_the_keras_model_with_its_1000_way_dense_swapped():
    model = build_mobilenet_v2()
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 7)
    reference = keras.applications.MobileNetV2(weights=None, classes=7)  # GAP -> Dense(7): the paper's swap
    assert model.count_params() == reference.count_params() == 2_266_951
    backbone, _ = find_backbone(model)
    after_backbone = [layer.name for layer in model.layers[model.layers.index(backbone) + 1:]]
    assert after_backbone == ["avg_pool", "predictions"]


def test_grayscale_input_gives_a_probability_per_class(small):
    assert small.get_layer("gray_to_rgb") is not None
    out = keras.ops.convert_to_numpy(small(images(3, 32, 1), training=False))
    assert out.shape == (3, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert small.get_layer("predictions").units == 7


def test_no_normalisation_by_default_and_backbone_scaling_on_request(small):
    assert "backbone_preprocess" not in {layer.name for layer in small.layers}
    scaled = build_model("mobilenet_v2", (32, 32, 3), 4, alpha=0.35, preprocess="backbone")
    assert scaled.get_layer("backbone_preprocess").mode == "tf"
    assert "gray_to_rgb" not in {layer.name for layer in scaled.layers}


def test_head_plus_last_block_trains_block_16_and_the_last_conv(small):
    try:
        set_fine_tune_mode(small, "head_plus_last_block")
        backbone, _ = find_backbone(small)
        inner = {layer.name for layer in backbone.layers if layer.trainable_weights}
        assert inner == {"block_16_expand", "block_16_depthwise", "block_16_project", "Conv_1"}
        assert small.get_layer("predictions").trainable
        set_fine_tune_mode(small, "head")
        assert [w.path for w in small.trainable_weights] == ["predictions/kernel", "predictions/bias"]
    finally:
        set_fine_tune_mode(small, "full")


def test_imagenet_weights_load_from_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv(weights.WEIGHTS_DIR_ENV, raising=False)
    source = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
    (tmp_path / "models").mkdir()
    # 32 px has no published weights, so Keras (and we) use the 224 px file.
    source.save(tmp_path / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5")
    model = build_model("mobilenet_v2", (32, 32, 1), 7, alpha=0.35, weights="imagenet", fine_tune="head")
    backbone, _ = find_backbone(model)
    for name in ("Conv1", "block_16_project", "Conv_1"):
        np.testing.assert_array_equal(backbone.get_layer(name).kernel.numpy(), source.get_layer(name).kernel.numpy())


def test_saved_model_round_trips(small, tmp_path):
    check_model_round_trip(small, tmp_path, images(2, 32, 1), rtol=1e-5)


@pytest.mark.parametrize(
    ("shape", "options", "message"),
    [
        ((16, 16, 3), {}, "at least 32x32"),
        ((32, 32, 3), {"fine_tune": "top"}, "unknown fine_tune 'top'"),
        ((32, 32, 3), {"alpha": 0.6, "weights": "imagenet"}, "alpha"),
    ],
)
def test_bad_options_are_model_errors(shape, options, message):
    with pytest.raises(ModelError, match=message):
        build_model("mobilenet_v2", shape, 7, **options)


def test_bn_momentum_sets_every_backbone_batchnorm_and_survives_saving(small, tmp_path):
    """keras.applications' 0.999 forgets its start too slowly for a short schedule from random weights."""
    def momenta(model):
        backbone, _ = find_backbone(model)
        return {layer.momentum for layer in backbone._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)}

    assert momenta(small) == {0.999}
    quick = build_model("mobilenet_v2", (32, 32, 1), 7, alpha=0.35, bn_momentum=0.99)
    assert momenta(quick) == {0.99}
    quick.save(tmp_path / "m.keras")
    assert momenta(keras.models.load_model(tmp_path / "m.keras", compile=False)) == {0.99}
    with pytest.raises(ModelError, match="bn_momentum must be between 0 and 1"):
        build_model("mobilenet_v2", (32, 32, 1), 7, alpha=0.35, bn_momentum=1.5)
