"""How TensorFlow runs a fit: seeds, determinism, precision policy, distribution strategy."""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from fer_keras.config import RuntimeConfig


def gpus() -> list:
    """Visible GPUs."""
    return tf.config.list_physical_devices("GPU")


def set_seeds(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy, TensorFlow and Keras; optionally force deterministic kernels."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        os.environ["TF_DETERMINISTIC_OPS"] = "1"
        tf.config.experimental.enable_op_determinism()


def apply_precision(runtime: RuntimeConfig) -> str:
    """Set the global Keras dtype policy; ``auto`` means mixed_float16 only when a GPU is present."""
    mixed = runtime.mixed_precision == "on" or (runtime.mixed_precision == "auto" and bool(gpus()))
    policy = "mixed_float16" if mixed else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def make_strategy(runtime: RuntimeConfig) -> tf.distribute.Strategy:
    """The distribution strategy: ``auto`` mirrors over several GPUs, else the default strategy.

    In every strategy ``training.batch_size`` is the global batch, split across replicas
    (``multi_worker`` is refused when the config is validated: Keras 3's fit fails under it).
    """
    kind = runtime.strategy
    if kind == "auto":
        kind = "mirrored" if len(gpus()) > 1 else "default"
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
