"""The float32 copy of a model trained under mixed precision: what TFLite converts and a CPU predicts with."""

from __future__ import annotations

from contextlib import contextmanager


def float32_policies(config):
    """A model config with every ``mixed_*`` dtype policy replaced by ``float32`` (nested configs too)."""
    if isinstance(config, list):
        return [float32_policies(item) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        name = config.get("config", {}).get("name", "")
        if str(name).startswith("mixed_"):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return config
    return {key: float32_policies(value) for key, value in config.items()}


def all_layers(model) -> list:
    """Every layer of ``model``, nested models' layers included (depth first)."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found += all_layers(layer)
    return found


def float32_model(model):
    """``model`` itself when it computes in float32, else a float32 copy with the same weights.

    A model trained under mixed precision (``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU
    with bfloat16 units) computes in 16 bits, which TFLite's converter rejects; its weights are
    float32, so the copy differs from it only by the 16-bit rounding of activations.
    """
    import keras

    if all(not layer.dtype_policy.name.startswith("mixed_") for layer in all_layers(model)):
        return model
    import fer_keras.models  # noqa: F401  (registers custom layers)

    copy = keras.saving.deserialize_keras_object(float32_policies(keras.saving.serialize_keras_object(model)))
    copy.set_weights(model.get_weights())
    return copy


@contextmanager
def float32_policy():
    """Keras's global dtype policy set to float32 inside the block (layers made there compute in
    float32 whatever a mixed-precision training set), restored after."""
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)
