"""Tests for fer_keras.models.architectures.vgg_attention: VGG16 base / +SE / +CBAM builders and weight loading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_keras.models import build_model, model_names
from fer_keras.models.attention import CBAM, SqueezeExcite
from fer_keras.errors import ModelError
from fer_keras.models.architectures.vgg_attention import VGGPreprocess
from tests.harness import check_layer, check_model_round_trip

KERAS_VGG16_NOTOP_PARAMS = 14_714_688
SMALL = (32, 32, 3)


def _se_params(channels: int, reduction: int = 16) -> int:
    return 2 * channels * channels // reduction + channels + channels // reduction


def _vgg_conv_params(model: keras.Model) -> int:
    convs = [layer for layer in model.layers if layer.name.startswith("block") and "_conv" in layer.name]
    return sum(layer.count_params() for layer in convs)


def _images(shape, batch: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, size=(batch, *shape)).astype("float32")


@pytest.fixture(scope="module")
def keras_vgg16_small() -> keras.Model:
    """A weights=None keras.applications VGG16 notop: the reference for names and weights."""
    return keras.applications.VGG16(weights=None, include_top=False, input_shape=SMALL)


def test_builders_are_registered():
    assert {"vgg16_attention", "vgg16_base", "vgg16_se", "vgg16_cbam"} <= set(model_names())


def test_vgg16_base_body_matches_keras_applications_vgg16_notop():
    model = build_model("vgg16_base", (224, 224, 3), 7)
    assert _vgg_conv_params(model) == KERAS_VGG16_NOTOP_PARAMS
    assert model.get_layer("block5_pool").output.shape == (None, 7, 7, 512)
    # GAP head: 512 * 7 + 7
    assert model.count_params() == KERAS_VGG16_NOTOP_PARAMS + 512 * 7 + 7


def test_layer_names_and_shapes_match_keras_vgg16(keras_vgg16_small):
    model = build_model("vgg16_cbam", SMALL, 3)
    for reference in keras_vgg16_small.layers[1:]:
        layer = model.get_layer(reference.name)
        assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in reference.weights]
    conv_names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert conv_names[-1] == "block5_conv3"


@pytest.mark.parametrize("attention, extra", [("se", 0), ("cbam", 3 * 7 * 7 * 2)])
def test_attention_adds_expected_parameters(attention, extra):
    base = build_model("vgg16_base", SMALL, 7)
    model = build_model(f"vgg16_{attention}", SMALL, 7)
    expected = sum(_se_params(c) for c in (128, 256, 512)) + extra  # SE: 43,960; CBAM: 44,254
    assert model.count_params() - base.count_params() == expected
    assert _vgg_conv_params(model) == KERAS_VGG16_NOTOP_PARAMS


@pytest.mark.parametrize("attention, layer_class", [("se", SqueezeExcite), ("cbam", CBAM)])
def test_attention_blocks_follow_pools_of_blocks_2_3_4(attention, layer_class):
    model = build_model("vgg16_attention", SMALL, 7, attention=attention)
    names = [layer.name for layer in model.layers]
    attention_layers = [layer for layer in model.layers if isinstance(layer, layer_class)]
    assert [layer.name for layer in attention_layers] == [f"block{b}_{attention}" for b in (2, 3, 4)]
    for block in (2, 3, 4):
        position = names.index(f"block{block}_{attention}")
        assert names[position - 1] == f"block{block}_pool"
        assert names[position + 1] == f"block{block + 1}_conv1"
        assert model.get_layer(f"block{block}_{attention}").input.shape[-1] == (128, 256, 512)[block - 2]


def test_alias_fixes_attention_and_rejects_it_as_option():
    assert build_model("vgg16_se", SMALL, 3).name == "vgg16_se"
    with pytest.raises(ModelError, match="unknown option attention"):
        build_model("vgg16_se", SMALL, 3, attention="cbam")


def test_vgg_head_is_flatten_two_dense_4096_with_dropout():
    model = build_model("vgg16_base", SMALL, 6, head="vgg")
    assert model.get_layer("fc1").units == 4096 and model.get_layer("fc2").units == 4096
    assert isinstance(model.get_layer("fc1_dropout"), keras.layers.Dropout)
    assert model.get_layer("fc1").count_params() == 512 * 4096 + 4096  # 1x1x512 flattened at 32 px
    assert model.output.shape == (None, 6)


def test_output_is_float32_softmax_even_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_model("vgg16_cbam", SMALL, 4)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("block3_cbam").compute_dtype == "float16"
    probabilities = model.predict(_images(SMALL), verbose=0)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_preprocess_layer_matches_keras_vgg16_preprocess_input():
    images = _images((4, 4, 3))
    expected = keras.applications.vgg16.preprocess_input(images.copy())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(VGGPreprocess()(images)), expected, rtol=1e-6, atol=1e-4)
    check_layer(VGGPreprocess(name="vgg_preprocess"), (2, 4, 4, 3), (2, 4, 4, 3), expected_params=0, inputs=images)


def test_preprocess_none_feeds_raw_pixels():
    model = build_model("vgg16_base", SMALL, 3, preprocess="none")
    assert "vgg_preprocess" not in [layer.name for layer in model.layers]


def test_grayscale_input_equals_rgb_model_on_replicated_channels():
    gray = build_model("vgg16_se", (32, 32, 1), 3)
    rgb = build_model("vgg16_se", SMALL, 3)
    rgb.set_weights(gray.get_weights())
    images = _images((32, 32, 1))
    assert gray.get_layer("gray_to_rgb").output.shape[-1] == 3
    np.testing.assert_allclose(
        gray.predict(images, verbose=0), rgb.predict(np.repeat(images, 3, axis=-1), verbose=0), rtol=1e-5, atol=1e-6
    )


def test_save_load_round_trip_without_custom_objects(tmp_path):
    model = build_model("vgg16_cbam", (32, 32, 1), 3)
    restored = check_model_round_trip(model, tmp_path, _images((32, 32, 1)))
    assert isinstance(restored.get_layer("vgg_preprocess"), VGGPreprocess)
    assert isinstance(restored.get_layer("block3_cbam"), CBAM)


def test_tiny_model_trains_one_step():
    model = build_model("vgg16_se", SMALL, 3, preprocess="vgg")
    model.compile(optimizer=keras.optimizers.SGD(1e-4, momentum=0.9), loss="sparse_categorical_crossentropy")
    before = model.get_layer("block2_se").get_weights()[0].copy()
    history = model.fit(_images(SMALL, batch=4), np.array([0, 1, 2, 0]), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(before, model.get_layer("block2_se").get_weights()[0])


@pytest.mark.parametrize("file_name, save", [("vgg16.weights.h5", "save_weights"), ("vgg16_legacy.h5", "save")])
def test_weights_file_loads_vgg_layers_by_name(tmp_path, keras_vgg16_small, file_name, save):
    path = tmp_path / file_name
    getattr(keras_vgg16_small, save)(path)
    fresh = build_model("vgg16_cbam", SMALL, 3)
    model = build_model("vgg16_cbam", SMALL, 3, weights=str(path))
    for name in ("block1_conv1", "block3_conv2", "block5_conv3"):
        for loaded, saved in zip(model.get_layer(name).get_weights(), keras_vgg16_small.get_layer(name).get_weights()):
            np.testing.assert_array_equal(loaded, saved)
    # attention and head keep a fresh (Glorot) init of the right shape, not copies of anything
    assert model.get_layer("block2_cbam").count_params() == fresh.get_layer("block2_cbam").count_params()
    attention_kernel = model.get_layer("block2_cbam").get_weights()[0]
    assert not np.array_equal(attention_kernel, fresh.get_layer("block2_cbam").get_weights()[0])


def test_weights_file_also_loads_into_grayscale_model(tmp_path, keras_vgg16_small):
    path = tmp_path / "vgg16.weights.h5"
    keras_vgg16_small.save_weights(path)
    model = build_model("vgg16_base", (48, 48, 1), 3, weights=path)
    expected = keras_vgg16_small.get_layer("block1_conv1").kernel.numpy()
    np.testing.assert_array_equal(model.get_layer("block1_conv1").kernel.numpy(), expected)


def test_imagenet_weights_come_from_the_offline_resolver(tmp_path, monkeypatch, keras_vgg16_small):
    from fer_keras.models.architectures import backbones  # an import bug must fail, not skip
    weights_file = tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    keras_vgg16_small.save(weights_file)
    calls = []

    def fake_resolve(model_name, include_top, path=None):
        calls.append((model_name, include_top))
        return str(weights_file)

    monkeypatch.setattr(backbones, "resolve_imagenet_weights", fake_resolve)
    model = build_model("vgg16_se", SMALL, 3, weights="imagenet")
    assert calls == [("vgg16", False)]
    expected = keras_vgg16_small.get_layer("block2_conv1").kernel.numpy()
    np.testing.assert_array_equal(model.get_layer("block2_conv1").kernel.numpy(), expected)


def test_missing_weights_path_is_a_one_line_model_error(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(ModelError) as error:
        build_model("vgg16_base", SMALL, 3, weights=str(missing))
    assert str(missing) in str(error.value) and "\n" not in str(error.value)


def test_unreadable_weights_file_is_a_one_line_model_error(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(ModelError, match="cannot load VGG16") as error:
        build_model("vgg16_base", SMALL, 3, weights=str(junk))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "input_shape, options, message",
    [
        ((16, 16, 3), {}, "at least 32"),
        ((32, 32, 2), {}, "1 or 3"),
        (SMALL, {"attention": "eca"}, "unknown attention"),
        (SMALL, {"head": "mlp"}, "unknown head"),
        (SMALL, {"preprocess": "tf"}, "unknown preprocess"),
        (SMALL, {"dropout": 1.0}, "dropout"),
        (SMALL, {"weights": 3}, "weights must be"),
        ((None, None, 3), {"head": "vgg"}, "fixed height"),
    ],
)
def test_bad_options_are_model_errors(input_shape, options, message):
    with pytest.raises(ModelError, match=message):
        build_model("vgg16_attention", input_shape, 3, **options)
