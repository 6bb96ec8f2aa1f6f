"""Smoke test of the benchmarks at the tiniest sizes: result shapes and the report, never speed."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from benchmarks import Sample, interleaved, markdown_table  # noqa: E402
from benchmarks import pipeline as pipeline_bench  # noqa: E402
from benchmarks import throughput as throughput_bench  # noqa: E402
from benchmarks.run import render_report  # noqa: E402


@pytest.fixture(scope="module")
def tiny_sample() -> Sample:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3, dtype=np.int32), [6, 4, 2])
    return Sample(rng.integers(0, 256, (len(labels), 16, 16, 1), dtype=np.uint8), labels, "tiny random")


@pytest.fixture(scope="module")
def pipeline_result(tiny_sample):
    return pipeline_bench.pipeline_throughput(tiny_sample, batch_size=4, images_per_repeat=8, legacy_images=4,
                                              repeats=1)


@pytest.fixture(scope="module")
def throughput_result(tiny_sample):
    case = throughput_bench.ModelCase("simple_cnn", (16, 16), "grayscale", 4, 1, 1, 1, xla=False)
    return throughput_bench.training_throughput({((16, 16), "grayscale"): tiny_sample}, cases=(case,), log=lambda _: None)


def test_interleaved_rotates_order_and_keeps_every_value():
    calls = []
    results = interleaved({"a": lambda: calls.append("a") or 1.0, "b": lambda: calls.append("b") or 2.0}, 2)
    assert calls == ["a", "b", "b", "a"]
    assert results == {"a": [1.0, 1.0], "b": [2.0, 2.0]}


def test_markdown_table_formats_rows():
    table = markdown_table([{"x": 1.23456, "y": None, "z": "a|b"}, {"x": 12345.6, "y": 2, "z": "c"}])
    lines = table.strip().splitlines()
    assert lines[0] == "| x | y | z |" and lines[1] == "|---|---|---|"
    assert lines[2] == "| 1.23 |  | a\\|b |" and lines[3] == "| 12,346 | 2 | c |"


def test_pipeline_rows_cover_every_variant(pipeline_result, tiny_sample):
    names = [row["pipeline"] for row in pipeline_result["rows"]]
    assert names[0] == pipeline_bench.LEGACY and pipeline_bench.AS_IS in names
    assert {pipeline_bench.NO_AUGMENT, pipeline_bench.ONE_WARP_TF, pipeline_bench.ONE_WARP_XLA,
            pipeline_bench.KERAS_LAYERS, pipeline_bench.AS_IS_DETERMINISTIC} <= set(names)
    assert pipeline_result["rows"][0]["vs_legacy"] == 1.0
    assert all(row["images_per_s"] > 0 for row in pipeline_result["rows"])
    assert pipeline_result["image_shape"] == "16x16x1"
    assert pipeline_result["balanced_epoch"] == 18  # three classes raised to the largest (6)


def test_warp_difference_measures_the_shipped_warp_against_the_tf_kernel():
    assert pipeline_bench.warp_difference((12, 10, 3), batch=2) < 0.01  # the layer itself: tests/data/test_affine.py


def test_training_throughput_rows(throughput_result):
    rows = throughput_result["rows"]
    datasets = [(row["xla"], row["dataset"]) for row in rows]
    assert datasets == [("off", throughput_bench.CEILING), ("off", throughput_bench.PIPELINE)]
    assert all(row["images_per_s"] > 0 and row["gflops_per_image"] > 0 for row in rows)
    assert rows[0]["vs_ceiling"] == 1.0
    assert rows[1]["vs_ceiling"] == pytest.approx(rows[1]["images_per_s"] / rows[0]["images_per_s"])
    assert throughput_result["gpu"] is not None or all(row["mfu"] is None for row in rows)


def test_settings_add_xla_and_mixed_precision_where_asked():
    assert throughput_bench.settings(gpu=False, xla=False) == [(False, False)]
    assert throughput_bench.settings(gpu=False) == [(False, False), (True, False)]
    assert throughput_bench.settings(gpu=True, xla=False) == [(False, False), (True, False), (False, True), (True, True)]


def test_model_flops_counts_a_dense_layer():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False)])
    assert throughput_bench.model_flops(model) == pytest.approx(2 * 3 * 2)


def test_peak_flops_by_gpu_name():
    assert throughput_bench.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert throughput_bench.peak_flops(None) is None and throughput_bench.peak_flops("Mystery GPU") is None


def test_report_has_every_section(pipeline_result, throughput_result):
    throughput_result = {**throughput_result, "decode": [{"step": "read", "images_in": 3, "images_kept": 3,
                                                          "seconds": 0.1, "images_per_s": 30.0, "source": "tiny"}],
                         "fit_overhead": None}
    latency = [{"source": "2 images", "repeats": 1, "fer_status": "fer left out", "tf_threads": "default",
                "rows": [{"method": "fer_keras Predictor.predict (min_size 20, default)", "median_ms": 5.0,
                          "p90_ms": 6.0, "images_with_face": "2/2"}]}]
    report = render_report({"machine": {"CPU": "test", "GPU": "none"}, "quick": True, "only": ["pipeline"],
                            "date": "today", "seconds": 60.0, "load_end": "1.0",
                            "pipeline": [{**pipeline_result, "warp_difference": 0.0, "seconds": 1.0}],
                            "throughput": throughput_result, "latency": latency})
    for heading in ("## Machine", "## Summary", "## 1. Input pipeline", "## 2. Training throughput",
                    "## 3. Predict latency", "## GPU"):
        assert heading in report
    assert "the legacy generator" in report and "fer not measured" in report


def test_model_zoo_rows_match_the_registry_and_fill_section_4():
    from benchmarks import models as zoo_bench
    from fer_keras.models import build_model

    result = zoo_bench.model_zoo(["simple_cnn"], quick=True, steps=1, log=lambda _: None)
    (row,) = result["rows"]
    assert row["input"] == "32x32x3" and row["steps"] == 1
    assert row["params_total"] == build_model("simple_cnn", (32, 32, 3), 7).count_params()
    assert 0 < row["params_trainable"] <= row["params_total"]
    assert row["images_per_s"] > 0 and row["epoch_s_kdef_4410"] == pytest.approx(4410 / row["images_per_s"])
    assert result["load_start"] and result["load_end"]
    capped = zoo_bench.measure_model("simple_cnn", (32, 32, 3), max_train_params=1)
    assert capped["params_total"] == row["params_total"] and "images_per_s" not in capped and capped["note"]
    big = {**row, "input": "224x224x3", "images_per_s": 2.0, "epoch_s_jaffe_213": 107.0, "epoch_s_kdef_4410": 2205.0}
    text, summary = zoo_bench.models_section({**result, "rows": [row, big]})
    assert "## 4. Model zoo" in text and f"| simple_cnn | 32x32x3 | {row['params_total']:,} |" in text
    assert "| 2 | 107 | 2,205 |" in text and "2,205 s (simple_cnn)" in summary[0]
    cases = zoo_bench.model_cases()
    assert ("custom_cnn2", (48, 48, 1)) in cases and ("vgg16_cbam", (224, 224, 3)) in cases


def test_gpu_path_adds_mixed_precision_mfu_and_a_gpu_summary(tiny_sample, monkeypatch):
    """The GPU branch, run on the CPU under a GPU's name: every setting, MFU against its peak, no 'pending'."""
    from benchmarks.run import throughput_section

    monkeypatch.setattr(throughput_bench, "gpu_names", lambda: ["NVIDIA H200"])
    case = throughput_bench.ModelCase("simple_cnn", (16, 16), "grayscale", 4, 1, 1, 1, xla=False)
    result = throughput_bench.training_throughput({((16, 16), "grayscale"): tiny_sample}, cases=(case,),
                                                  log=lambda _: None)
    rows = result["rows"]
    assert result["gpu"] == "NVIDIA H200" and result["peak_flops"] == 989e12
    assert {(row["xla"], row["mixed_precision"]) for row in rows} == {("off", "off"), ("on", "off"), ("off", "on"),
                                                                       ("on", "on")}
    for row in rows:
        assert row["mfu"] == pytest.approx(row["achieved_gflop_s"] * 1e9 / 989e12)
    text, summary = throughput_section({**result, "decode": [{"step": "read", "images_in": 1, "images_kept": 1,
                                                              "seconds": 0.1, "images_per_s": 10.0, "source": "t"}]})
    assert "MFU against NVIDIA H200's dense FP16/BF16 peak of 989 TFLOP/s" in text
    (line,) = [line for line in summary if line.startswith("GPU NVIDIA H200")]
    assert "simple_cnn" in line and "MFU" in line and "mixed precision" in line
    report = render_report({"machine": {"CPU": "test", "GPU": "NVIDIA H200"}, "quick": True, "only": ["throughput"],
                            "date": "today", "seconds": 1.0, "load_end": "1.0",
                            "throughput": {**result, "decode": [{"step": "read", "images_in": 1, "images_kept": 1,
                                                                 "seconds": 0.1, "images_per_s": 10.0, "source": "t"}],
                                           "fit_overhead": None}})
    assert "GPU rows are pending" not in report and "GPU NVIDIA H200" in report


def test_report_header_names_a_saved_zoo_run():
    from benchmarks import models as zoo_bench

    zoo = {"rows": [{"model": "simple_cnn", "input": "32x32x3", "params_total": 10, "params_trainable": 10}],
           "batch": 8, "steps": 1, "slow_step_s": 4.0, "epoch_images": {}, "load_start": "1", "load_end": "1",
           "seconds": 60.0, "max_train_params": 1, "quick": True, "date": "2026-01-02 03:04 UTC"}
    zoo_bench.models_section(zoo)  # the section renders from these keys
    report = render_report({"machine": {"CPU": "test", "GPU": "none"}, "quick": False,
                            "only": ["pipeline", "throughput", "latency"], "date": "today", "seconds": 60.0,
                            "load_end": "1.0", "zoo": zoo, "zoo_json": "/tmp/zoo.json"})
    assert "`python benchmarks/run.py --zoo-json zoo.json`" in report
    assert "section 4 is the saved model-zoo run of 2026-01-02 03:04 UTC" in report


def test_cross_dataset_leaves_fer_out_in_one_line_when_opencv_has_no_haar_cascades(monkeypatch):
    """OpenCV 5 ships no Haar cascades; ``fer`` then crashed the whole benchmark with a traceback."""
    import cv2
    import pandas as pd

    from benchmarks.cross_dataset import fer_labels

    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)
    with pytest.raises(ImportError, match=r"Haar cascades \(cv2.CascadeClassifier\)"):
        fer_labels(pd.DataFrame({"path": [], "label": []}), detect=True)


def test_fer2013_epoch_times_the_augmenter_alone_on_one_chunk():
    import keras
    import tensorflow as tf

    from benchmarks.fer2013_epoch import augmenter_rate

    calls = []

    class Counting(keras.layers.Layer):
        def call(self, images, training=None):
            calls.append(bool(training))  # runs while tracing: the compiled augmenter is traced once
            return images + 1.0

    layer = Counting()
    augment = tf.function(lambda images: layer(images, training=True))
    rates = [augmenter_rate(augment, tf.zeros((8, 4, 4, 1)), calls=3) for _ in range(2)]
    assert all(rate > 0 and np.isfinite(rate) for rate in rates)
    assert calls == [True]


def test_precision_benchmark_times_both_policies_or_says_the_cpu_has_no_bf16_units(tmp_path):
    from benchmarks import precision as precision_bench

    without = precision_bench.rows_for(["simple_cnn"], steps=1, repeats=1, bf16_units=False, log=lambda _: None)
    assert without == [{"model": "simple_cnn", "float32 images/s": None, "mixed_bfloat16 images/s": None,
                        "bf16 / fp32": precision_bench.NO_UNITS}]
    (row,) = precision_bench.rows_for(["simple_cnn"], steps=1, repeats=1, bf16_units=True, log=lambda _: None)
    assert row["float32 images/s"] > 0 and row["mixed_bfloat16 images/s"] > 0
    assert row["bf16 / fp32"] == f"{row['mixed_bfloat16 images/s'] / row['float32 images/s']:.2f}x"
    machine = {"CPU": "Some CPU", "CPU cores visible": "2", "TensorFlow": "2", "Keras": "3"}
    text = precision_bench.render(machine, ["amx_bf16"], [row], 1, 1)
    assert "bf16-related CPU flags: amx_bf16" in text and "| simple_cnn |" in text


def test_cross_dataset_scores_accuracy_and_balanced_accuracy_with_intervals():
    import pandas as pd

    from benchmarks.cross_dataset import card_table, score

    table = pd.DataFrame({"label": ["anger"] * 10 + ["disgust"] * 2})
    labels = ["anger"] * 10 + [None, "anger"]  # disgust never found: balanced accuracy shows it
    rows = score("m", "set", table, labels, 3.0)
    overall = rows[0]
    assert overall["accuracy"] == pytest.approx(10 / 12) and overall["balanced_accuracy"] == pytest.approx(0.5)
    assert overall["faces_found"] == 11 and overall["ci_low"] < 10 / 12 < overall["ci_high"]
    assert {r["class"]: r["accuracy"] for r in rows[1:]} == {"anger": 1.0, "disgust": 0.0}
    text = card_table(pd.DataFrame(rows))
    assert "| set | m | 83.3 (" in text and "| 50.0 (" in text and "| 11 of 12 | 3.0 |" in text


def test_cross_dataset_runs_fer_in_another_interpreter_and_says_why_when_it_fails(tmp_path):
    import sys

    import pandas as pd

    from benchmarks.cross_dataset import fer_labels_elsewhere

    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nrequest, answer = sys.argv[-2:]\n"
                    "paths = json.load(open(request))['paths']\n"
                    "json.dump({'labels': ['happy_label' for _ in paths], 'ms': 1.5}, open(answer, 'w'))\n")
    fake.chmod(0o755)
    labels, ms = fer_labels_elsewhere(str(fake), pd.DataFrame({"path": ["a.png", "b.png"]}), detect=True)
    assert labels == ["happy_label", "happy_label"] and ms == 1.5
    broken = tmp_path / "broken"
    broken.write_text(f"#!{sys.executable}\nraise SystemExit('no module named fer')\n")
    broken.chmod(0o755)
    with pytest.raises(ImportError, match=f"fer under {broken} failed: no module named fer"):
        fer_labels_elsewhere(str(broken), pd.DataFrame({"path": ["a.png"]}), detect=True)


def test_cross_dataset_scores_each_set_with_a_twin_that_never_trained_on_it(tmp_path):
    """Leave-one-dataset-out: a run that trained on KDEF (train_extra) is not scored on KDEF; its twin is."""
    import yaml

    from benchmarks.cross_dataset import trained_on, unseen_run

    def run(name, extras):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.yaml").write_text(yaml.safe_dump({"train_extra": extras}))
        return str(folder)

    everything = run("all", [{"dataset": "ckplus", "repeat": 4}, {"dataset": "jaffe"}, {"dataset": "kdef", "repeat": 8}])
    no_kdef = run("no_kdef", [{"dataset": "ckplus", "repeat": 4}, {"dataset": "jaffe"}, {"dataset": "kdef", "repeat": 0}])
    assert trained_on(everything) == {"ckplus", "jaffe", "kdef"} and trained_on(no_kdef) == {"ckplus", "jaffe"}
    assert trained_on(str(tmp_path)) == set()  # no config.yaml: trained on none of them
    runs = [everything, no_kdef]
    assert unseen_run(runs, "KDEF subset (face detection)") == no_kdef
    assert unseen_run(runs, "FER2013 PrivateTest (crops)") == everything
    assert unseen_run(runs, "JAFFE (face detection)") is None
