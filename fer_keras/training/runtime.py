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


#: CPU flags (``/proc/cpuinfo``) of bfloat16 matrix units that oneDNN uses under ``mixed_bfloat16``
#: (Intel AMX-BF16, Sapphire Rapids and later). AVX512-BF16 alone (e.g. AMD Zen 4) is not counted:
#: it speeds dot products only, and its gain was not measured here.
BF16_MATRIX_FLAGS = frozenset({"amx_bf16"})
#: Older spellings of ``runtime.mixed_precision`` (kept so earlier run configs still resume).
PRECISION_ALIASES = {"on": "mixed_float16", "off": "float32"}


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is none, e.g. macOS)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def has_bf16_matrix_units(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU has bfloat16 matrix units (:data:`BF16_MATRIX_FLAGS`)."""
    return bool(BF16_MATRIX_FLAGS & (cpu_flags() if flags is None else flags))


def resolve_precision(setting: str, gpu_count: int | None = None, flags: frozenset[str] | None = None) -> str:
    """The Keras dtype policy a ``runtime.mixed_precision`` setting means on this machine.

    ``auto``: ``mixed_float16`` with a GPU, ``mixed_bfloat16`` on a CPU with bfloat16 matrix
    units, else ``float32``. Any other value names the policy (``on``/``off`` are older spellings).
    """
    if setting != "auto":
        return PRECISION_ALIASES.get(setting, setting)
    if gpu_count is None:
        gpu_count = len(gpus())
    if gpu_count:
        return "mixed_float16"
    return "mixed_bfloat16" if has_bf16_matrix_units(flags) else "float32"


def apply_precision(runtime: RuntimeConfig) -> str:
    """Set the global Keras dtype policy that ``runtime.mixed_precision`` resolves to here; returns it."""
    policy = resolve_precision(runtime.mixed_precision)
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
