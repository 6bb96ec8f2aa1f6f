"""Speed benchmarks for fer_keras (not tests): input pipeline, training throughput, predict latency.

Every benchmark measures the things it compares side by side in one process, alternating
their repetitions, and reports medians and ratios, because these machines are shared and
noisy. ``python benchmarks/run.py`` runs them all and writes ``reports/benchmarks.md``.
This module holds what the three benchmarks share: the machine description, the sample
images, timing helpers and Markdown tables.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: The real datasets folder next to the repository (absent on a user's machine).
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
CKPLUS48 = "CK+48"


@dataclass
class Sample:
    """Decoded benchmark images: uint8 ``(N, H, W, C)``, int32 label ids, where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def sample_table(data_root: Path | None = None, synthetic_per_class: int = 20):
    """The CK+48 table (path, label, …) when ``data_root/CK+48`` exists, else synthetic faces.

    Returns ``(table, source, dataset_name, root)``.
    """
    root = Path(data_root if data_root is not None else SHARED_DATASETS) / CKPLUS48
    if root.is_dir():
        from fer_keras.data.registry import read_dataset

        table = read_dataset("ckplus", str(root)).table
        return table, f"CK+48 ({len(table)} real 48x48 faces)", "ckplus", str(root)
    from fer_keras.data.readers.synthetic import make_synthetic_faces

    table = make_synthetic_faces(n_subjects=synthetic_per_class, images_per_class=1, image_size=96)
    return table, f"synthetic faces ({len(table)}, CK+48 absent)", "synthetic", None


def load_sample(image_size: tuple[int, int], color_mode: str, data_root: Path | None = None) -> Sample:
    """Benchmark images decoded the fer_keras way (``load_images``) at ``image_size`` and ``color_mode``."""
    from fer_keras.data.decode import load_images

    table, source, _, _ = sample_table(data_root)
    images = load_images(table, image_size, color_mode)
    classes = sorted(table["label"].unique())
    labels = table["label"].map({name: i for i, name in enumerate(classes)}).to_numpy(np.int32)
    return Sample(images, labels, source)


def subsample(sample: Sample, limit: int) -> Sample:
    """At most ``limit`` images, every k-th one (so every class keeps its share)."""
    if len(sample.images) <= limit:
        return sample
    step = -(-len(sample.images) // limit)
    return Sample(sample.images[::step], sample.labels[::step], f"{sample.source}, every {step}th image")


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (NaN when empty)."""
    return float(statistics.median(values)) if len(values) else float("nan")


def timed(function: Callable[[], object]) -> float:
    """Seconds one call of ``function`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved(candidates: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run every candidate once per repeat, rotating the order each repeat; values per candidate."""
    names = list(candidates)
    results: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(float(candidates[name]()))
    return results


def gpu_names() -> list[str]:
    """Names of the visible GPUs (empty on CPU-only machines)."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(str(details.get("device_name", device.name)))
    return names


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_details() -> str:
    """Clock and vector extensions from /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    vectors = [name for name, flag in (("AVX2", "avx2"), ("AVX-512", "avx512f"), ("AVX-512 BF16", "avx512_bf16"),
                                                 ("AMX-BF16", "amx_bf16"))
               if flag in flags]
    clock = f"{float(fields['cpu MHz']) / 1000:.2f} GHz" if "cpu MHz" in fields else ""
    return ", ".join(part for part in (clock, " ".join(vectors)) if part)


def load_average() -> str:
    """1/5/15-minute load averages, or 'n/a'."""
    try:
        return ", ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def machine_info() -> dict[str, str]:
    """What the numbers were measured on."""
    import cv2
    import keras
    import tensorflow as tf

    gpus = gpu_names()
    return {
        "CPU": cpu_model(),
        "CPU clock, vector units": cpu_details() or "n/a",
        "CPU cores visible": str(os.cpu_count()),
        "GPU": ", ".join(gpus) if gpus else "none",
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "NumPy": np.__version__,
        "OpenCV": cv2.__version__,
        "OS": platform.platform(),
        "load average at start (1, 5, 15 min)": load_average(),
    }


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as a Markdown table (floats rounded sensibly, None as empty)."""
    if not rows:
        return "_(no rows)_\n"
    columns = list(columns or rows[0].keys())

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
