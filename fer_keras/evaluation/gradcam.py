"""Grad-CAM / Grad-CAM++ maps (tf-keras-vis), per-class mean maps, and DICE / IoU between them.

Maps come from ``tf_keras_vis.gradcam.Gradcam`` and ``tf_keras_vis.gradcam_plus_plus.GradcamPlusPlus``
on a clone of the model whose output layer is switched from softmax to linear (so gradients are
those of the class score, not of the softmax), at the last convolution (or any named layer, also
inside a nested backbone). Each map is resized to the input's height and width and scaled to
0..1 per image.

The model handed to tf-keras-vis has two outputs, ``[class scores, activations of the layer]``;
the activations pass through an ``Identity`` layer (:data:`FEATURES_SUFFIX`) so tf-keras-vis can
read them from a top-level layer even when the layer lives inside a nested sub-model (tf-keras-vis
alone cannot: a nested layer's output is not connected to the outer model's inputs in Keras 3).

Comparisons threshold each per-class mean map (at a fraction of its maximum, or at a quantile) and
score the masks with DICE (F1) and IoU (Jaccard) from scikit-learn: same model on two datasets,
two models on one dataset, or maps against a face-region mask.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import cv2
import keras
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, jaccard_score
from tf_keras_vis.gradcam import Gradcam
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
from tf_keras_vis.utils.scores import CategoricalScore, InactiveScore

from fer_keras.errors import ExplanationError, ModelError
from fer_keras.models.float32_copy import float32_model, float32_policy
from fer_keras.models.registry import model_spec

__all__ = [
    "METHODS", "LinearOutput", "default_conv_layer", "explanation_model", "visualizer",
    "gradcam_maps", "class_mean_maps", "threshold", "dice", "iou", "resized", "compare_class_maps",
    "compare_with_mask",
]

#: Map methods and their tf-keras-vis classes.
METHODS = {"gradcam": Gradcam, "gradcam++": GradcamPlusPlus}
#: Threshold methods: a fraction of the map's maximum, or a quantile of its values.
THRESHOLD_METHODS = ("fraction", "quantile")
#: Suffix of the Identity layer that exposes the explained layer's activations.
FEATURES_SUFFIX = "__gradcam_features"
#: Layer types counted as convolutions when picking the default layer.
CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
              keras.layers.Conv2DTranspose)


# ---------------------------------------------------------------------------------------- layers


def _walk(model: keras.Model):
    """Every layer of ``model``, depth first, nested sub-models' layers right after the sub-model."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _walk(layer)


def _output_rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):
        return None


def default_conv_layer(model: keras.Model) -> str:
    """The Grad-CAM layer its registered spec names (``model.name``), where the model has it; else the
    last convolution (looking inside nested sub-models); else the last 4-D layer."""
    layers = list(_walk(model))
    named = registered_gradcam_layer(model.name)
    if named is not None and any(layer.name == named for layer in layers):
        return named
    for layer in reversed(layers):
        if isinstance(layer, CONV_TYPES) and _output_rank(layer) == 4:
            return layer.name
    for layer in reversed(layers):
        if not isinstance(layer, (keras.Model, keras.layers.InputLayer)) and _output_rank(layer) == 4:
            return layer.name
    raise ExplanationError(f"model {model.name!r} has no convolution or other 4-D layer to explain")


def registered_gradcam_layer(model_name: str) -> str | None:
    """The Grad-CAM layer of the registered model ``model_name``; None for other names or specs naming none."""
    try:
        return model_spec(model_name).gradcam_layer
    except ModelError:  # not a registered model
        return None


def _holder(model: keras.Model, name: str) -> keras.Model | None:
    """The top-level layer of ``model`` that is, or (as a nested model) contains, the layer ``name``."""
    for layer in reversed(model.layers):
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model) and _holder(layer, name) is not None:
            return layer
    return None


def _with_features(model: keras.Model, name: str) -> tuple:
    """``(inputs, class output, activations of layer name)`` as tensors of one graph, sharing ``model``'s layers."""
    holder = _holder(model, name)
    if holder is None:
        raise ExplanationError(f"layer {name!r} not found in model {model.name!r} (nor in its sub-models)")
    if holder.name == name:
        return model.inputs, model.outputs[0], holder.output
    inner_inputs, inner_output, inner_features = _with_features(holder, name)
    inner = keras.Model(inner_inputs, [inner_output, inner_features], name=f"{holder.name}_with_features")
    captured = []

    def call(layer, *args, **kwargs):
        if layer is holder:
            output, features = inner(*args, **kwargs)
            captured.append(features)
            return output
        return layer(*args, **kwargs)

    rebuilt = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)
    return rebuilt.inputs, rebuilt.outputs[0], captured[0]


def _output_layer_name(model: keras.Model) -> str:
    names = getattr(model, "output_names", None)
    return names[0] if names else model.layers[-1].name


class LinearOutput:
    """tf-keras-vis model modifier: set the output layer's activation to ``keras.activations.linear``.

    Used instead of tf-keras-vis' ``ReplaceToLinear``, which relies on ``model.output_names``
    (absent from Keras 3 Sequential models). Applied to tf-keras-vis' clone, never to the
    caller's model.
    """

    def __init__(self, layer_name: str):
        self.layer_name = layer_name

    def __call__(self, model: keras.Model) -> None:
        layer = model.get_layer(self.layer_name)
        if not hasattr(layer, "activation"):
            raise ExplanationError(
                f"output layer {self.layer_name!r} ({type(layer).__name__}) has no activation to make linear"
            )
        layer.activation = keras.activations.linear


def explanation_model(model: keras.Model, layer: str | None = None) -> tuple[keras.Model, str]:
    """Model with outputs ``[class scores, activations of layer]`` sharing ``model``'s layers.

    The activations pass through an Identity layer named ``<layer>__gradcam_features``; returns
    the model and that name. The caller's model is not modified (layers are only reused).
    """
    layer = layer or default_conv_layer(model)
    inputs, output, features = _with_features(model, layer)
    if len(features.shape) != 4:
        raise ExplanationError(f"layer {layer!r} gives {len(features.shape)}-D output; Grad-CAM needs a 4-D layer")
    if tuple(features.shape[1:3]) == (1, 1):
        warnings.warn(f"layer {layer!r} is 1x1 at this input size: every Grad-CAM map will be constant (all zeros); "
                      "pick an earlier layer or a larger input", stacklevel=2)
    feature_name = f"{layer}{FEATURES_SUFFIX}"
    features = keras.layers.Identity(name=feature_name)(features)
    return keras.Model(inputs, [output, features], name=f"{model.name}_explained"), feature_name


def visualizer(model: keras.Model, layer: str | None = None, method: str = "gradcam"):
    """The tf-keras-vis ``Gradcam`` / ``GradcamPlusPlus`` object (on a linear-output clone) and its layer name."""
    if method not in METHODS:
        raise ExplanationError(f"unknown Grad-CAM method {method!r}; expected one of {', '.join(METHODS)}")
    model = float32_model(model)  # a mixed-precision model's 16-bit maps are not what NumPy/SciPy take
    explained, feature_name = explanation_model(model, layer)
    modifier = LinearOutput(_output_layer_name(model))
    return METHODS[method](explained, model_modifier=modifier, clone=True), feature_name


# ------------------------------------------------------------------------------------------ maps


def _check_images(model: keras.Model, images) -> np.ndarray:
    images = np.asarray(images)
    expected = tuple(model.inputs[0].shape[1:])
    if images.ndim == 3 and expected[-1] == 1:
        images = images[..., np.newaxis]
    if images.ndim != 4 or any(e is not None and e != s for e, s in zip(expected, images.shape[1:])):
        raise ExplanationError(f"images have shape {images.shape}; the model expects (N, {', '.join(map(str, expected))})")
    return images.astype("float32")


def _check_class_ids(class_ids, count: int, num_classes: int) -> np.ndarray:
    ids = np.asarray(class_ids)
    if ids.shape != (count,) or not np.issubdtype(ids.dtype, np.integer):
        raise ExplanationError(f"class_ids must be {count} integers (one per image), got shape {ids.shape} {ids.dtype}")
    if count and (ids.min() < 0 or ids.max() >= num_classes):
        raise ExplanationError(f"class_ids must lie in 0..{num_classes - 1}, got {ids.min()}..{ids.max()}")
    return ids.astype(int)


def gradcam_maps(
    model: keras.Model,
    images: np.ndarray,
    class_ids: np.ndarray,
    layer: str | None = None,
    method: str = "gradcam",
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM (or ``"gradcam++"``) map of ``class_ids[i]`` for each image: ``(N, H, W)`` float32 in 0..1.

    ``images`` are what the model takes (``(N, H, W, C)``, uint8 or float 0..255; ``(N, H, W)``
    for one-channel models); ``layer`` defaults to :func:`default_conv_layer`. Each map is
    min-max scaled on its own (a constant map, e.g. from a 1x1 layer, becomes all zeros).
    """
    images = _check_images(model, images)
    ids = _check_class_ids(class_ids, len(images), int(model.outputs[0].shape[-1]))
    if batch_size < 1:
        raise ExplanationError(f"batch_size must be a positive int, got {batch_size!r}")
    maps = []
    with float32_policy():  # the clones tf-keras-vis makes must not pick up a mixed training policy
        visual, feature_name = visualizer(model, layer, method)
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            score = [CategoricalScore(ids[start:start + batch_size].tolist()), InactiveScore()]
            cam = visual(score, batch, penultimate_layer=feature_name, seek_penultimate_conv_layer=False,
                         normalize_cam=False)
            maps.append(np.asarray(cam, dtype="float32").reshape(batch.shape[:3]))
    if not maps:
        return np.zeros(images.shape[:3], dtype="float32")
    return _min_max(np.nan_to_num(np.concatenate(maps)))


def _min_max(maps: np.ndarray) -> np.ndarray:
    """Scale each map to 0..1 (min to 0, max to 1); a constant map becomes all zeros."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)
    return np.clip(scaled, 0.0, 1.0).astype("float32")


def class_mean_maps(maps: np.ndarray, labels: Sequence, classes: Sequence) -> dict:
    """Mean map of each class (in ``classes`` order) over the images labelled with it; absent classes left out."""
    maps, labels = np.asarray(maps), np.asarray(labels)
    if maps.ndim != 3 or len(labels) != len(maps):
        raise ExplanationError(f"maps must be (N, H, W) with one label each; got maps {maps.shape}, {len(labels)} labels")
    return {c: maps[labels == c].mean(axis=0) for c in classes if np.any(labels == c)}


# ----------------------------------------------------------------------------------- comparison


def threshold(cam: np.ndarray, level: float = 0.5, method: str = "fraction") -> np.ndarray:
    """Boolean mask of a map: ``cam >= level * max`` ("fraction") or ``cam >= quantile(level)``.

    An all-zero (or empty) map gives an empty mask.
    """
    if method not in THRESHOLD_METHODS:
        raise ExplanationError(f"unknown threshold method {method!r}; expected one of {', '.join(THRESHOLD_METHODS)}")
    if not 0.0 <= level <= 1.0:
        raise ExplanationError(f"threshold level must lie in 0..1, got {level!r}")
    cam = np.asarray(cam, dtype=float)
    if cam.size == 0 or cam.max() <= 0:
        return np.zeros(cam.shape, dtype=bool)
    cut = level * cam.max() if method == "fraction" else np.quantile(cam, level)
    return cam >= cut


def _check_masks(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ExplanationError(f"masks differ in shape: {a.shape} vs {b.shape}")
    return a.astype(bool).ravel(), b.astype(bool).ravel()


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """DICE coefficient (F1) of two boolean masks; 1 when both are empty."""
    a, b = _check_masks(a, b)
    return float(f1_score(a, b, zero_division=1.0))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union (Jaccard) of two boolean masks; 1 when both are empty."""
    a, b = _check_masks(a, b)
    return float(jaccard_score(a, b, zero_division=1.0))


def resized(image: np.ndarray, shape: tuple, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """``image`` at ``shape``'s height and width (as it is when it already has them)."""
    image = np.asarray(image)
    if image.shape[:2] == tuple(shape[:2]):
        return image
    return cv2.resize(image.astype("float32"), (shape[1], shape[0]), interpolation=interpolation)


def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["class", "dice", "iou"])
    mean = {"class": "mean", "dice": table["dice"].mean(), "iou": table["iou"].mean()}
    return pd.concat([table, pd.DataFrame([mean])], ignore_index=True)


def compare_class_maps(
    maps_a: Mapping, maps_b: Mapping, level: float = 0.5, method: str = "fraction"
) -> pd.DataFrame:
    """DICE and IoU of the thresholded mean maps of every class in both, plus a ``mean`` row.

    Maps of ``maps_b`` are resized to the size of ``maps_a``'s when they differ (e.g. two models
    with different input sizes).
    """
    shared = [c for c in maps_a if c in maps_b]
    if not shared:
        raise ExplanationError(f"no class in common between {list(maps_a)} and {list(maps_b)}")
    rows = []
    for name in shared:
        a = threshold(maps_a[name], level, method)
        b = threshold(resized(maps_b[name], a.shape), level, method)
        rows.append({"class": name, "dice": dice(a, b), "iou": iou(a, b)})
    return _table(rows)


def compare_with_mask(maps: Mapping, mask: np.ndarray, level: float = 0.5, method: str = "fraction") -> pd.DataFrame:
    """DICE and IoU of each class's thresholded mean map against a region mask (e.g. the face), plus ``mean``."""
    if not maps:
        raise ExplanationError("no class maps to compare with the mask")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ExplanationError(f"mask must be a 2-D (H, W) array, got shape {mask.shape}")
    rows = []
    for name, cam in maps.items():
        a = threshold(cam, level, method)
        region = resized(mask.astype("uint8"), a.shape, cv2.INTER_NEAREST).astype(bool)
        rows.append({"class": name, "dice": dice(a, region), "iou": iou(a, region)})
    return _table(rows)
