"""fer_keras/evaluation/gradcam.py: Grad-CAM maps, layer choice, class means, DICE / IoU."""

import keras
import numpy as np
import pandas as pd
import pytest

from fer_keras.evaluation import gradcam
from fer_keras.errors import ExplanationError
from fer_keras.models import build_model

SIZE = 32
CROSS_AT = (8, 24)  # centre of the top-right quadrant
SQUARE_AT = (24, 8)  # centre of the bottom-left quadrant


def detector_layers():
    """Layers of a hand-weighted net: channel 0 fires on a 3x3 cross, channel 1 on a 3x3 solid square."""
    detect = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="detect")
    pool = keras.layers.MaxPooling2D(2, name="pool")
    last = keras.layers.Conv2D(2, 1, name="last_conv")
    return detect, pool, last


def set_detector_weights(detect, last):
    cross = np.array([[-2, 1, -2], [1, 1, 1], [-2, 1, -2]], dtype="float32")
    kernel = np.stack([cross, np.ones((3, 3), "float32")], axis=-1)[:, :, np.newaxis, :]
    detect.set_weights([kernel, np.array([-4.0, -8.0], "float32")])
    last.set_weights([np.eye(2, dtype="float32").reshape(1, 1, 2, 2), np.zeros(2, "float32")])


def set_head_weights(head):
    """Class 0 = "a square is there" (channel 1), class 1 = "a cross is there" (channel 0)."""
    head.set_weights([np.array([[0.0, 50.0], [50.0, 0.0]], "float32"), np.zeros(2, "float32")])


def detector_model(nested: bool = False) -> keras.Model:
    """Class 1 depends only on where the cross is; class 0 only on where the square is."""
    detect, pool, last = detector_layers()
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    if nested:
        inner_in = keras.Input((SIZE, SIZE, 1))
        inner = keras.Model(inner_in, last(pool(detect(keras.layers.Rescaling(1 / 255)(inner_in)))), name="backbone")
        x = inner(inputs)
    else:
        x = last(pool(detect(keras.layers.Rescaling(1 / 255)(inputs))))
    x = keras.layers.GlobalAveragePooling2D()(x)
    head = keras.layers.Dense(2, activation="softmax", name="predictions")
    model = keras.Model(inputs, head(x))
    set_detector_weights(detect, last)
    set_head_weights(head)
    return model


def cross_and_square() -> np.ndarray:
    """One image: a cross in the top-right quadrant and a solid square in the bottom-left one."""
    image = np.zeros((SIZE, SIZE, 1), "uint8")
    y, x = CROSS_AT
    image[y - 1:y + 2, x, 0] = 255
    image[y, x - 1:x + 2, 0] = 255
    y, x = SQUARE_AT
    image[y - 1:y + 2, x - 1:x + 2, 0] = 255
    return image


def quadrant_mass(cam: np.ndarray, top: bool, right: bool) -> float:
    half = SIZE // 2
    rows = slice(0, half) if top else slice(half, None)
    cols = slice(half, None) if right else slice(0, half)
    return float(cam[rows, cols].sum() / cam.sum())


@pytest.fixture(scope="module")
def simple():
    keras.utils.set_random_seed(0)
    return build_model("simple_cnn", (SIZE, SIZE, 1), 3)


@pytest.fixture(scope="module")
def detector():
    return detector_model()


def test_detector_predicts_from_both_shapes(detector):
    image = cross_and_square()[np.newaxis]
    assert detector.predict(image.astype("float32"), verbose=0)[0] == pytest.approx([0.5, 0.5], abs=1e-3)
    only_cross = image.copy()
    only_cross[:, SIZE // 2:, : SIZE // 2] = 0
    assert detector.predict(only_cross.astype("float32"), verbose=0)[0, 1] > 0.5


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_maps_have_input_shape_and_lie_in_unit_range(simple, method):
    images = np.random.default_rng(0).integers(0, 256, (5, SIZE, SIZE, 1), dtype=np.uint8)
    maps = gradcam.gradcam_maps(simple, images, np.array([0, 1, 2, 0, 1]), method=method, batch_size=2)
    assert maps.shape == (5, SIZE, SIZE) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1
    assert np.allclose(maps.max(axis=(1, 2)), 1) and np.allclose(maps.min(axis=(1, 2)), 0)
    # (N, H, W) grayscale input is accepted for one-channel models and gives the same maps.
    again = gradcam.gradcam_maps(simple, images[..., 0], np.array([0, 1, 2, 0, 1]), method=method, batch_size=2)
    np.testing.assert_allclose(again, maps, atol=1e-5)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
@pytest.mark.parametrize("nested", [False, True])
def test_map_of_each_class_lies_on_its_own_evidence(method, nested):
    model = detector_model(nested)
    assert gradcam.default_conv_layer(model) == "last_conv"
    images = np.repeat(cross_and_square()[np.newaxis], 2, axis=0)
    maps = gradcam.gradcam_maps(model, images, np.array([1, 0]), method=method)
    cross_map, square_map = maps
    assert quadrant_mass(cross_map, top=True, right=True) > 0.95
    assert quadrant_mass(square_map, top=False, right=False) > 0.95
    peak = np.unravel_index(cross_map.argmax(), cross_map.shape)
    assert abs(peak[0] - CROSS_AT[0]) <= 2 and abs(peak[1] - CROSS_AT[1]) <= 2


def test_explained_clone_is_linear_and_original_is_untouched(simple):
    images = np.random.default_rng(1).integers(0, 256, (3, SIZE, SIZE, 1)).astype("float32")
    before = simple.predict(images, verbose=0)
    visual, feature_layer = gradcam.visualizer(simple)
    assert feature_layer == "last_conv" + gradcam.FEATURES_SUFFIX
    logits, features = visual.model([images])
    assert visual.model.get_layer("predictions").activation is keras.activations.linear
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits)), before, atol=1e-5)
    assert tuple(features.shape) == (3, SIZE // 2, SIZE // 2, 64)
    gradcam.gradcam_maps(simple, images, np.array([0, 1, 2]))
    assert simple.get_layer("predictions").activation is keras.activations.softmax
    np.testing.assert_allclose(simple.predict(images, verbose=0), before, atol=1e-6)


def test_default_conv_layer_of_zoo_models():
    assert gradcam.default_conv_layer(build_model("custom_cnn2", (48, 48, 1), 7)) == "last_conv"
    assert gradcam.default_conv_layer(build_model("vgg16_base", (32, 32, 3), 7)) == "block5_conv3"
    dense_only = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ExplanationError, match="no convolution"):
        gradcam.default_conv_layer(dense_only)


def test_bad_inputs_raise_one_line_errors(simple):
    images = np.zeros((2, SIZE, SIZE, 1), "uint8")
    with pytest.raises(ExplanationError, match="images have shape"):
        gradcam.gradcam_maps(simple, np.zeros((2, 16, 16, 1)), np.array([0, 1]))
    with pytest.raises(ExplanationError, match="must lie in 0..2"):
        gradcam.gradcam_maps(simple, images, np.array([0, 3]))
    with pytest.raises(ExplanationError, match="one per image"):
        gradcam.gradcam_maps(simple, images, np.array([0]))
    with pytest.raises(ExplanationError, match="'nope' not found"):
        gradcam.gradcam_maps(simple, images, np.array([0, 1]), layer="nope")
    with pytest.raises(ExplanationError, match="4-D layer"):
        gradcam.gradcam_maps(simple, images, np.array([0, 1]), layer="fc1")
    with pytest.raises(ExplanationError, match="unknown Grad-CAM method"):
        gradcam.gradcam_maps(simple, images, np.array([0, 1]), method="scorecam")


def test_class_mean_maps_average_each_class():
    maps = np.arange(4 * 2 * 2, dtype=float).reshape(4, 2, 2)
    labels = np.array(["anger", "fear", "anger", "fear"])
    means = gradcam.class_mean_maps(maps, labels, ["fear", "anger", "sadness"])
    assert list(means) == ["fear", "anger"]
    np.testing.assert_allclose(means["anger"], (maps[0] + maps[2]) / 2)
    np.testing.assert_allclose(means["fear"], (maps[1] + maps[3]) / 2)


def test_threshold_by_fraction_and_quantile():
    cam = np.arange(16, dtype=float).reshape(4, 4)  # max 15
    assert gradcam.threshold(cam, 0.5).sum() == 8  # 7.5 .. 15
    assert gradcam.threshold(cam, 0.75, method="quantile").sum() == 4
    assert not gradcam.threshold(np.zeros((4, 4))).any()
    with pytest.raises(ExplanationError):
        gradcam.threshold(cam, 1.5)


def test_dice_and_iou_on_known_masks():
    left = np.zeros((4, 4), bool)
    left[:, :2] = True
    right = ~left
    middle = np.zeros((4, 4), bool)
    middle[:, 1:3] = True
    corner = np.zeros((4, 4), bool)
    corner[:2, :2] = True
    assert gradcam.dice(left, left) == 1 and gradcam.iou(left, left) == 1
    assert gradcam.dice(left, right) == 0 and gradcam.iou(left, right) == 0
    assert gradcam.dice(left, middle) == pytest.approx(0.5)  # 2*4 / (8+8)
    assert gradcam.iou(left, middle) == pytest.approx(1 / 3)  # 4 / 12
    assert gradcam.dice(corner, left) == pytest.approx(2 / 3)  # 2*4 / (4+8)
    assert gradcam.iou(corner, left) == pytest.approx(0.5)  # 4 / 8
    empty = np.zeros((4, 4), bool)
    assert gradcam.dice(empty, empty) == 1 and gradcam.iou(empty, empty) == 1
    with pytest.raises(ExplanationError, match="differ in shape"):
        gradcam.dice(left, np.zeros((2, 2), bool))


def band(columns, size=4):
    cam = np.zeros((size, size))
    cam[:, columns] = 1.0
    return cam


def test_compare_class_maps_rows_and_mean():
    maps_a = {"anger": band(slice(0, 2)), "fear": band(slice(0, 2)), "happiness": band(slice(0, 2))}
    maps_b = {"anger": band(slice(0, 2)), "fear": band(slice(2, 4)), "happiness": band(slice(1, 3)),
              "sadness": band(slice(0, 4))}
    table = gradcam.compare_class_maps(maps_a, maps_b)
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["class", "dice", "iou"]
    assert table["class"].tolist() == ["anger", "fear", "happiness", "mean"]
    rows = table.set_index("class")
    assert rows.loc["anger"].tolist() == pytest.approx([1, 1])
    assert rows.loc["fear"].tolist() == pytest.approx([0, 0])
    assert rows.loc["happiness"].tolist() == pytest.approx([0.5, 1 / 3])
    assert rows.loc["mean"].tolist() == pytest.approx(rows.drop("mean").mean().tolist())
    # A map of another size (another model's input) is resized before thresholding.
    bigger = {"anger": np.kron(band(slice(0, 2)), np.ones((2, 2)))}
    assert gradcam.compare_class_maps(maps_a, bigger).set_index("class").loc["anger"].tolist() == pytest.approx([1, 1])
    with pytest.raises(ExplanationError, match="no class in common"):
        gradcam.compare_class_maps({"anger": band(0)}, {"fear": band(0)})


def test_compare_with_mask():
    mask = band(slice(0, 2), size=8).astype(bool)
    maps = {"anger": band(slice(0, 2), size=8), "fear": band(slice(4, 8), size=8)}
    table = gradcam.compare_with_mask(maps, mask).set_index("class")
    assert table.loc["anger"].tolist() == pytest.approx([1, 1])
    assert table.loc["fear"].tolist() == pytest.approx([0, 0])
    assert table.loc["mean"].tolist() == pytest.approx([0.5, 0.5])
    small_mask = band(slice(0, 1), size=4).astype(bool)  # resized (nearest) to 8x8: columns 0-1
    assert gradcam.compare_with_mask(maps, small_mask).set_index("class").loc["anger", "dice"] == pytest.approx(1)


def test_one_by_one_layer_warns_and_gives_zero_maps():
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(3, 4, activation="relu", name="last_conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    with pytest.warns(UserWarning, match="1x1"):
        maps = gradcam.gradcam_maps(model, np.ones((2, 4, 4, 1)), np.array([0, 1]))
    assert maps.shape == (2, 4, 4) and not maps.any()


def test_default_conv_layer_is_the_one_the_registered_spec_names(monkeypatch):
    from fer_keras.models import registry

    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))

    @registry.register_model("two_conv_test_net", gradcam_layer="conv1")
    def two_conv(input_shape=(8, 8, 1), num_classes=2):
        inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(2, 3, padding="same", name="conv1")(inputs)
        x = keras.layers.Conv2D(2, 3, padding="same", name="conv2")(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
        return keras.Model(inputs, outputs, name="two_conv_test_net")

    model = registry.build_model("two_conv_test_net", (8, 8, 1), 2)
    assert gradcam.default_conv_layer(model) == "conv1"
    model.name = "unregistered"
    assert gradcam.default_conv_layer(model) == "conv2"
