"""fer_keras/training/runtime.py: which dtype policy ``runtime.mixed_precision`` means on a machine."""

import json

import keras
import pytest

from fer_keras.config import RuntimeConfig, load_config
from fer_keras.models import build_model
from fer_keras.reports.run_report import compute_text
from fer_keras.rundir import RunDir
from fer_keras.training import runtime
from fer_keras.training.experiment import run_experiment

AMX = frozenset({"fpu", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
AVX2_ONLY = frozenset({"fpu", "avx2", "fma"})
AVX512_BF16_ONLY = frozenset({"avx2", "avx512f", "avx512_bf16"})


@pytest.fixture(autouse=True)
def float32_afterwards():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("gpus, flags, policy", [
    (0, AMX, "mixed_bfloat16"),
    (0, AVX2_ONLY, "float32"),
    (0, AVX512_BF16_ONLY, "float32"),  # bf16 dot products only, no matrix units: not counted
    (0, frozenset(), "float32"),  # no /proc/cpuinfo (macOS)
    (1, AVX2_ONLY, "mixed_float16"),
    (2, AMX, "mixed_float16"),  # a GPU wins over the CPU's units
])
def test_auto_picks_bf16_only_on_cpus_with_bf16_matrix_units(gpus, flags, policy):
    assert runtime.resolve_precision("auto", gpu_count=gpus, flags=flags) == policy


@pytest.mark.parametrize("setting, policy", [
    ("float32", "float32"), ("mixed_bfloat16", "mixed_bfloat16"), ("mixed_float16", "mixed_float16"),
    ("on", "mixed_float16"), ("off", "float32"),
])
def test_explicit_settings_force_their_policy_on_any_machine(setting, policy):
    for flags in (AMX, AVX2_ONLY):
        assert runtime.resolve_precision(setting, gpu_count=0, flags=flags) == policy


def test_cpu_flags_are_read_from_proc_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(info if path == "/proc/cpuinfo" else path,
                                                                           *a, **k))
    assert runtime.cpu_flags() == {"fpu", "avx2", "amx_bf16", "amx_tile"}
    assert runtime.has_bf16_matrix_units()


def test_apply_precision_sets_the_global_policy_from_the_faked_flags(monkeypatch):
    monkeypatch.setattr(runtime, "gpus", lambda: [])
    monkeypatch.setattr(runtime, "cpu_flags", lambda: AMX)
    assert runtime.apply_precision(RuntimeConfig(mixed_precision="auto")) == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    monkeypatch.setattr(runtime, "cpu_flags", lambda: AVX2_ONLY)
    assert runtime.apply_precision(RuntimeConfig(mixed_precision="auto")) == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_unknown_precision_is_refused_when_the_config_is_read():
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        RuntimeConfig(mixed_precision="bf16")


@pytest.mark.parametrize("name", ["custom_cnn1", "custom_cnn2", "custom_cnn3", "compact_cnn", "simple_cnn"])
def test_bf16_models_compute_in_bfloat16_and_keep_a_float32_softmax(name):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = build_model(name, (48, 48, 1), 7)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32" for layer in convs)
    output = model(keras.ops.zeros((2, 48, 48, 1)))
    assert keras.backend.standardize_dtype(output.dtype) == "float32"
    assert keras.ops.convert_to_numpy(keras.ops.sum(output, axis=-1)) == pytest.approx([1.0, 1.0], abs=1e-5)


def tiny_config(tmp_path, epochs):
    config = load_config("quickstart.yaml", overrides=[
        "data.options.n_subjects=10", "data.options.images_per_class=1", "training.batch_size=16",
        f"training.epochs={epochs}", "model.name=simple_cnn", "report.sample_predictions=0",
        f"runtime.out_dir={tmp_path}"])
    return config


def test_run_records_the_resolved_policy_and_resumes_where_auto_resolves_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "gpus", lambda: [])
    out = tmp_path / "run"
    monkeypatch.setattr(runtime, "cpu_flags", lambda: AMX)  # started on an AMX machine
    run_experiment(tiny_config(tmp_path, epochs=1), run_dir=out)
    assert keras.mixed_precision.global_policy().name == "float32"  # the caller's policy again
    assert [s["precision"] for s in json.loads((out / "environment.json").read_text())] == ["mixed_bfloat16"]
    assert "mixed_bfloat16" in " ".join(compute_text(RunDir(out), {}))
    assert keras.saving.load_model(out / "model_fold0.keras").get_layer("predictions").dtype_policy.name == "float32"

    monkeypatch.setattr(runtime, "cpu_flags", lambda: AVX2_ONLY)  # resumed on a machine without bf16 units
    run_experiment(tiny_config(tmp_path, epochs=2), run_dir=out)
    sessions = json.loads((out / "environment.json").read_text())
    assert [s["precision"] for s in sessions] == ["mixed_bfloat16", "float32"]
    assert load_config(out / "config.yaml").runtime.mixed_precision == "auto"
    assert json.loads((out / "status.json").read_text())["state"] == "finished"
    text = " ".join(compute_text(RunDir(out), {}))
    assert "mixed_bfloat16" in text and "float32" in text and "2 sessions" in text
