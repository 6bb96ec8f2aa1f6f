"""The bad-input audit (issue: reliability), table-driven: each case → one clear line, exit 2, nothing written.

Cases run in-process through the CLI entry points (``main(argv)``), so the whole table takes seconds.
Cases not listed here are open (see the issue's note).
"""

from __future__ import annotations

import re

import pytest

from fer_keras.cli import train
from fer_keras.training.run_lifecycle import lock, open_run, read_status, write_status

TINY = ["--config", "quickstart.yaml", "--set", "data.options.n_subjects=12", "--set", "data.options.images_per_class=1",
        "--set", "model.name=simple_cnn", "--set", "augmentation.enabled=false", "--set", "report.sample_predictions=0",
        "--set", "runtime.verbose=0"]


def write(path, text: str | bytes):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


# case → (argv or a function of tmp_path giving argv, the expected error line as a regex)
CONFIG_CASES = {
    "seed below 0": (["--set", "seed=-1"], r"seed.*greater than or equal to 0"),
    "seed above 2**32-1": (["--set", f"seed={2**32}"], r"seed.*less than or equal to 4294967295"),
    "learning rate inf": (["--set", "training.learning_rate=.inf"], r"training\.learning_rate"),
    "learning rate 1e308": (["--set", "training.learning_rate=1e308"], r"training\.learning_rate.*less than or equal to 10"),
    "epochs: true": (["--set", "training.epochs=true"], r"training\.epochs.*must be a number, not true"),
    "experiment ..": (["--set", "experiment=.."], r"experiment"),
    "data.cache (a key nothing read)": (["--set", "data.cache=false"], r"data.*cache"),
    "test set at another size": (["--set", "test_datasets=[{dataset: synthetic, image_size: [32, 32]}]"],
                                 r"test_datasets\.0\.image_size is \(32, 32\) but the model takes data\.image_size"),
    "dataset typo": (["--set", "data.dataset=fer2031"], r"data\.dataset 'fer2031' is not a registered reader"),
    "test dataset typo": (["--set", "test_datasets=[{dataset: jafe}]"], r"test_datasets\.0\.dataset 'jafe'"),
    "model typo": (["--set", "model.name=custom_cnn9"], r"model\.name 'custom_cnn9' is not a registered model"),
    "--seeds with --fold": (["--seeds", "1", "2", "--fold", "0"], r"--fold cannot be combined with it"),
    "--seeds and --set seed=": (["--seeds", "1", "2", "--set", "seed=3"], r"give the seeds with --seeds"),
    "--seeds 1 1": (["--seeds", "1", "1"], r"--seeds lists a seed twice: 1 1"),
    "--seeds -1": (["--seeds", "2", "-1"], r"seed.*greater than or equal to 0"),
    "several machines": (["--set", "runtime.strategy=multi_worker"],
                         r"runtime\.strategy.*multi_worker is not supported.*keras-team/keras#20585"),
    # round three
    "R3-08 input size 10000x10000": (["--set", "data.image_size=[10000,10000]", "--set", "data.options.n_subjects=20"],
                                     r"^error: 140 images of 10000x10000x1 would take about 13\.0 GiB of memory, more "
                                     r"than this machine has free \([\d.]+ GiB\); lower data\.image_size"),
    "R3-09 balance target 10**8": (["--set", "augmentation.enabled=true", "--set", "augmentation.balance=per_class",
                                    "--set", "augmentation.balance_target=100000000"],
                                   r"^error: balancing to 700,000,000 images an epoch would take about 20\.9 GiB of "
                                   r"memory, more than this machine has free \(16\.0 GiB\); lower "
                                   r"augmentation\.balance_target$"),
    "R3-11 fractions sum above 1": (["--set", "split.test_fraction=0.7", "--set", "split.val_fraction=0.5"],
                                    r"^error: config error: split: val_fraction 0\.5 and test_fraction 0\.7 leave no "
                                    r"image to train on; their sum must be below 1$"),
    "R3-11 fractions sum to 1": (["--set", "split.test_fraction=0.5", "--set", "split.val_fraction=0.5"],
                                 r"split: val_fraction 0\.5 and test_fraction 0\.5 leave no image"),
    "R3-11 validation more than half the rest": (["--set", "split.test_fraction=0.6", "--set", "split.val_fraction=0.3"],
                                                 r"split: val_fraction 0\.3 is more than half of what test_fraction "
                                                 r"0\.6 leaves; at most 0\.2$"),
}


def test_name_typos_are_caught_before_any_image_is_read(monkeypatch, capsys):
    """A dataset typo stops before TensorFlow loads; a model typo before the data is read."""
    def fail(*args, **kwargs):
        raise AssertionError("too late: this ran before the typo was reported")

    monkeypatch.setattr(train, "load_tensorflow_quietly", fail)
    assert train.main(TINY + ["--set", "data.dataset=fer2031"]) == 2
    monkeypatch.undo()
    import fer_keras.training.experiment as experiment

    monkeypatch.setattr(experiment, "run_experiment", fail)
    assert train.main(TINY + ["--set", "model.name=custom_cnn9"]) == 2
    assert "custom_cnn9" in capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_case_is_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("fer_keras.memory.available_bytes", lambda: 16 * 2**30)  # the memory-bomb rows refuse alike anywhere
    extra, expected = CONFIG_CASES[case]
    code = train.main(TINY + extra)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: ")
    assert re.search(expected, err), err
    assert list(tmp_path.iterdir()) == []


FILE_CASES = {
    "extends: 3": (b"extends: 3\nexperiment: x\n", r"extends must be a config file name, got 3"),
    "not UTF-8": (b"experiment: caf\xe9\n", r"not a UTF-8 text file"),
    "duplicate key": (b"experiment: a\ntraining:\n  epochs: 2\n  epochs: 3\n", r"key 'epochs' appears twice"),
    "R3-10 YAML alias bomb (9 levels of 9)": (
        b"experiment: x\nreport:\n  paper: {source: s, accuracy: 1}\ndescription: &d0 [x, x, x, x, x, x, x, x, x]\n"
        + b"".join(f"d{i}: &d{i} [{', '.join([f'*d{i - 1}'] * 9)}]\n".encode() for i in range(1, 9)),
        r"bad\.yaml: its aliases expand to [\d,]+ values .*is it a YAML alias bomb\?$"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_config_file_case_is_one_line_exit_2(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body, expected = FILE_CASES[case]
    config = write(tmp_path / "bad.yaml", body)
    code = train.main(["--config", config])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert re.search(expected, err), err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_nan_training_stops_with_one_line_and_no_report(tmp_path, capsys, monkeypatch):
    """A loss that turns NaN (whether a huge learning rate diverges depends on the drawn faces,
    which differ between OpenCV versions, so the NaN is made certain here)."""
    import keras

    from fer_keras.training import fit

    class NaNLoss(keras.losses.SparseCategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * float("nan")

    monkeypatch.setitem(fit.LOSSES, "sparse_categorical_crossentropy", NaNLoss)
    monkeypatch.chdir(tmp_path)
    code = train.main(TINY + ["--set", "training.epochs=3", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert re.search(r"training diverged in epoch 1: the loss became NaN", err) and "training.learning_rate" in err
    assert not (tmp_path / "run" / "report.md").exists()


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_failed_fresh_run_leaves_no_run_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = ["--set", "data.dataset=jaffe", "--set", "data.options={}", "--set", f"data.root={tmp_path / 'nowhere'}"]
    assert train.main(TINY + bad) == 2 and "does not exist" in one_line_error(capsys)
    assert train.main(TINY + bad + ["--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys)
    assert not (tmp_path / "run").exists() and not (tmp_path / "reports").exists()


def test_resume_with_another_config_names_the_keys(tmp_path, capsys):
    from fer_keras.config import load_config
    from fer_keras.rundir import RunDir
    from fer_keras.training.experiment import with_detectors_chosen

    run = tmp_path / "run"
    run.mkdir()  # as a run writes it: face_crop.detector auto replaced by this machine's choice
    (run / "config.yaml").write_text(with_detectors_chosen(load_config(TINY[1], TINY[3::2])).to_yaml())
    write_status(RunDir(run), "failed", "killed")
    assert train.main(TINY + ["--set", "seed=1", "--set", "training.learning_rate=0.01", "--out", str(run)]) == 2
    err = one_line_error(capsys)
    assert "was started with another config (seed, training.learning_rate differ)" in err
    assert "seed: 42" in (run / "config.yaml").read_text()  # the saved config still describes the run


def test_second_training_on_a_locked_run_directory_is_one_line(tmp_path, capsys):
    from fer_keras.rundir import RunDir

    run = tmp_path / "run"
    run.mkdir()
    holder = lock(RunDir(run), ".lock")
    try:
        assert train.main(TINY + ["--out", str(run)]) == 2
        assert "is in use by another training" in one_line_error(capsys)
    finally:
        holder.close()


def test_out_that_is_a_file_or_under_a_file_is_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "run"):
        assert train.main(TINY + ["--out", str(out)]) == 2
        one_line_error(capsys)
    assert afile.read_text() == "x"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from tests.inference.fakes import make_run_dir

    return make_run_dir(tmp_path_factory.mktemp("trained") / "run")


@pytest.fixture
def photo(tmp_path):
    import cv2

    from fer_keras.data.readers.synthetic import draw_face

    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), draw_face(0, "happiness", 96, "grayscale"))
    return path


def test_predict_checks_out_before_predicting(trained_run, photo, tmp_path, capsys, monkeypatch):
    from fer_keras.cli import predict
    from fer_keras.inference import predictor as predictor_module

    calls = []
    monkeypatch.setattr(predictor_module.Predictor, "load", classmethod(lambda cls, *a, **k: calls.append(1)))
    afile = tmp_path / "afile"
    afile.write_text("x")
    (tmp_path / "taken" / "predictions.csv").mkdir(parents=True)
    for out in (afile, afile / "sub", tmp_path / "taken"):
        assert predict.main(["--model", str(trained_run), str(photo), "--out", str(out)]) == 2
        one_line_error(capsys)
    assert calls == [] and afile.read_text() == "x"


def test_export_refuses_to_overwrite_without_force_and_checks_samples(trained_run, tmp_path, capsys):
    from fer_keras.cli import export

    out = tmp_path / "export"
    (out / "saved_model").mkdir(parents=True)
    (out / "saved_model" / "mine.txt").write_text("keep me")
    assert export.main(["--model", str(trained_run), "--out", str(out)]) == 2
    assert "already holds saved_model; add --force" in one_line_error(capsys)
    assert (out / "saved_model" / "mine.txt").read_text() == "keep me"
    assert export.main(["--model", str(trained_run), "--out", str(tmp_path / "e2"), "--samples", "0"]) == 2
    assert "--samples must be at least 1" in one_line_error(capsys)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert export.main(["--model", str(trained_run), "--out", str(afile)]) == 2
    assert "is a file, not a folder" in one_line_error(capsys)


def test_an_error_after_tensorflow_loads_is_still_the_only_line(tmp_path):
    """TensorFlow's absl/CUDA-probe lines used to come before the one error line."""
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "FER_KERAS_DEBUG")}
    done = subprocess.run([sys.executable, "-m", "fer_keras.train", *TINY, "--set", "data.dataset=jaffe",
                           "--set", "data.options={}", "--set", f"data.root={tmp_path / 'nowhere'}"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()] and "does not exist" in done.stderr, done.stderr


def test_a_corrupt_keras_file_is_not_called_missing(tmp_path, photo, capsys):
    from fer_keras.cli import predict

    bad = tmp_path / "model.keras"
    bad.write_text("garbage")
    assert predict.main(["--model", str(bad), str(photo)]) == 2
    err = one_line_error(capsys)
    assert "exists but is not a .keras archive" in err and "not found" not in err


def test_report_on_a_garbage_predictions_table_is_one_line(tmp_path, capsys):
    from fer_keras.cli import report
    from fer_keras.config import load_config

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(load_config("quickstart.yaml").to_yaml())
    (run / "predictions_fold0.csv").write_text("a,b\n1,2\n")
    assert report.main([str(run)]) == 2
    assert "not a predictions table" in one_line_error(capsys)


def test_a_run_with_progress_or_stopped_by_the_user_is_kept_resumable(tmp_path):
    from fer_keras.rundir import RunDir

    for name, stop in (("interrupted", KeyboardInterrupt()), ("crashed", RuntimeError("boom"))):
        run = tmp_path / name
        with pytest.raises(type(stop)):
            with open_run("seed: 1\n", run, tmp_path, "x") as folder:
                (folder.path / "history_fold0.csv").write_text("epoch,loss\n0,1.0\n")
                raise stop
        state = {"interrupted": "interrupted", "crashed": "failed"}[name]
        assert (run / "history_fold0.csv").exists() and read_status(RunDir(run))["state"] == state


def test_a_failing_predict_or_export_leaves_no_new_out_folder(trained_run, tmp_path, capsys):
    """--out is checked before the work, but the folder it names is only kept when the command succeeds."""
    from fer_keras.cli import export, predict

    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "new" / "predictions"
    assert predict.main(["--model", str(trained_run), str(empty), "--out", str(out)]) == 2
    assert "holds no image files" in one_line_error(capsys)
    assert not (tmp_path / "new").exists()
    assert export.main(["--model", str(tmp_path / "no_such_run"), "--out", str(out)]) == 2
    one_line_error(capsys)
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"  # a folder the user already had stays, with what it held
    kept.mkdir()
    (kept / "mine.txt").write_text("keep me")
    assert predict.main(["--model", str(trained_run), str(empty), "--out", str(kept)]) == 2
    one_line_error(capsys)
    assert (kept / "mine.txt").read_text() == "keep me"


def test_output_dir_removes_what_a_failed_command_created_and_keeps_the_rest(tmp_path):
    from fer_keras.output_folder import output_dir

    fresh = tmp_path / "a" / "b"
    with pytest.raises(ValueError):
        with output_dir(fresh) as out:
            (out / "half.csv").write_text("x")
            raise ValueError("failed halfway")
    assert not (tmp_path / "a").exists()
    with pytest.raises(KeyboardInterrupt):  # stopped by the user: what was written stays
        with output_dir(fresh) as out:
            (out / "half.csv").write_text("x")
            raise KeyboardInterrupt
    assert (fresh / "half.csv").exists()
    with pytest.raises(ValueError):  # a folder that existed keeps its files
        with output_dir(fresh) as out:
            (out / "more.csv").write_text("y")
            raise ValueError("failed")
    assert (fresh / "half.csv").exists() and (fresh / "more.csv").exists()


# --- round three -----------------------------------------------------------------------------------

@pytest.mark.parametrize("frames", ["0", "-3"])
def test_r3_03_max_frames_below_1_is_one_line(frames, trained_run, tmp_path, capsys):
    from fer_keras.cli import predict

    assert predict.main(["--model", str(trained_run), "clip.mp4", "--max-frames", frames]) == 2
    assert f"--max-frames must be at least 1, got {frames}" in one_line_error(capsys)


def test_r3_12_tilde_in_out_and_out_dir_is_the_home_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert train.main(TINY + ["--set", "training.epochs=1", "--out", "~/run"]) == 0
    assert (tmp_path / "home" / "run" / "report.md").is_file() and not (tmp_path / "~").exists()
    from fer_keras.config import load_config

    config = load_config("quickstart.yaml", ["runtime.out_dir=~/runs", "model.init_from=~/m.keras",
                                             "data.root=~/data"])
    home = str(tmp_path / "home")
    assert (config.runtime.out_dir, config.model.init_from, config.data.root) == \
        (f"{home}/runs", f"{home}/m.keras", f"{home}/data")


@pytest.mark.parametrize("cut", ["within data", "before model", "mid-line at the end"])
def test_r3_15_a_run_config_cut_short_is_one_line_naming_the_file(cut, trained_run, photo, tmp_path, capsys):
    import shutil

    from fer_keras.cli import predict

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    text = (run / "config.yaml").read_text()
    ends = {"within data": text.index("image_size:"), "before model": text.index("\nmodel:") + 1,
            "mid-line at the end": len(text) - 3}
    (run / "config.yaml").write_text(text[:ends[cut]])
    assert predict.main(["--model", str(run), str(photo)]) == 2
    err = one_line_error(capsys)
    assert f"{run / 'config.yaml'} is damaged (cut short?)" in err and "input (" not in err


def test_r3_16_report_seeds_refuses_a_run_given_twice_or_two_runs_of_one_seed(trained_run, tmp_path, capsys):
    import shutil

    from fer_keras.cli import report

    assert report.main(["--seeds", str(trained_run), str(trained_run), "--out", str(tmp_path / "s")]) == 2
    assert f"--seeds lists the run {trained_run} twice" in one_line_error(capsys)
    twin = tmp_path / "twin"
    shutil.copytree(trained_run, twin)
    assert report.main(["--seeds", str(trained_run), str(twin), "--out", str(tmp_path / "s")]) == 2
    assert "two of the runs have seed 42" in one_line_error(capsys)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("key, config", [("transfer.source_model", "synthetic_transfer.yaml"),
                                         ("model.init_from", "quickstart.yaml")])
def test_r3_17_a_missing_starting_model_names_the_key_the_user_set(key, config, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train.main(["--config", config, "--set", f"{key}={tmp_path / 'nonexistent' / 'run'}",
                       "--set", "runtime.verbose=0"]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"error: {key} '") and "neither a fer_keras run directory" in err
    other = {"transfer.source_model": "init_from", "model.init_from": "source_model"}[key]
    assert other not in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_r3_01_a_phone_jpeg_is_read_upright_by_its_exif_orientation(orientation, tmp_path):
    """Training and predict read every file through read_image; Orientation=6 (a portrait phone photo) was sideways."""

    import numpy as np
    from PIL import Image, ImageOps

    from fer_keras.data.image_io import read_image

    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:10, :20] = (255, 0, 0)  # a red block marks the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, "JPEG", exif=exif, quality=95)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    image = read_image(path)
    assert image.shape == upright.shape == ((40, 60, 3) if orientation in (1, 3) else (60, 40, 3))
    assert np.abs(image.astype(int) - upright).max() <= 2
    gray = tmp_path / "gray.jpg"
    Image.fromarray(stored[..., 0]).save(gray, "JPEG", exif=exif, quality=95)
    assert read_image(gray).shape[-1] == 1  # grayscale JPEGs stay one channel


def test_r3_06_out_inside_the_input_folder_is_left_out_of_the_scan(trained_run, photo, tmp_path, capsys):
    import shutil

    import pandas as pd

    from fer_keras.cli import predict

    folder = tmp_path / "m2"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(photo, folder / name)
    out = folder / "preds"
    for _ in range(2):
        assert predict.main(["--model", str(trained_run), str(folder), "--out", str(out), "--annotate"]) == 0
    assert len(pd.read_csv(out / "predictions.csv")) == 2
    assert sorted(p.name for p in (out / "annotated").rglob("*.png")) == ["a.png", "b.png"]
    assert not (out / "annotated" / "preds").exists()



def test_r3_18_19_ctrl_c_or_sigterm_during_training_is_one_line_and_the_run_stays_resumable(tmp_path):
    """A 62-line KeyboardInterrupt traceback before; SIGTERM left status.json 'running' with a dead pid."""
    import json
    import signal
    import subprocess
    import sys
    import time

    for stop in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / f"run_{stop.name}"
        process = subprocess.Popen([sys.executable, "-m", "fer_keras.train", *TINY, "--set", "training.epochs=50",
                                    "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   cwd=tmp_path)
        deadline = time.monotonic() + 240
        while not (out / "history_fold0.csv").exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        process.send_signal(stop)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130, err[-2000:]
        assert err.strip().splitlines() == [f"interrupted: {out} is kept; the same command with --out {out} resumes "
                                            "from its last finished epoch"], err[-2000:]
        status = json.loads((out / "status.json").read_text())
        assert status["state"] == "interrupted"
    from fer_keras.rundir import RunDir

    (out / "status.json").write_text(json.dumps({"state": "running", "pid": 999999}))  # as after a SIGKILL
    assert read_status(RunDir(out))["state"] == "stale"


def _folder_of_photos(photo, folder, count):
    import shutil

    folder.mkdir()
    for i in range(count):
        shutil.copy(photo, folder / f"{i:03d}.png")
    return folder


def test_r3_04_ctrl_c_during_a_folder_predict_keeps_every_row_so_far(trained_run, photo, tmp_path, capsys, monkeypatch):
    import pandas as pd

    from fer_keras.cli import predict
    from fer_keras.inference import rows as rows_module

    folder = _folder_of_photos(photo, tmp_path / "photos", 6)
    real = rows_module.predict_images

    def stopped_after_four(*args, **kwargs):
        for done, item in enumerate(real(*args, **kwargs)):
            if done == 4:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(rows_module, "predict_images", stopped_after_four)
    out = tmp_path / "out"
    assert predict.main(["--model", str(trained_run), str(folder), "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"interrupted: 4 row(s) kept in {out / 'predictions.csv'}"
    assert pd.read_csv(out / "predictions.csv")["source"].tolist() == [f"{i:03d}.png" for i in range(4)]
    assert not list(out.glob(".tmp_*"))


class FullDisk:
    """A file that takes ``room`` writes, then writes half of the next one and fails as a full disk does."""

    def __init__(self, handle, room):
        self.handle, self.room = handle, room

    def write(self, text):
        if self.room == 0:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(28, "No space left on device")
        self.room -= 1
        return self.handle.write(text)

    def __getattr__(self, name):
        return getattr(self.handle, name)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_r3_05_a_full_disk_during_predict_keeps_the_whole_rows_that_fitted(fmt, trained_run, photo, tmp_path, capsys,
                                                                           monkeypatch):
    import json

    import pandas as pd

    from fer_keras.cli import predict
    from fer_keras.inference.sink import RowSink

    folder = _folder_of_photos(photo, tmp_path / "photos", 5)
    enter = RowSink.__enter__

    def full_after_three(self):
        enter(self)
        self.handle = FullDisk(self.handle, room=3)
        return self

    monkeypatch.setattr(RowSink, "__enter__", full_after_three)
    out = tmp_path / "out"
    assert predict.main(["--model", str(trained_run), str(folder), "--out", str(out), "--format", fmt]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    err = lines[-1]  # after the folder's progress bar
    assert err.startswith("error: ") and not any("Traceback" in line for line in lines)
    assert "cannot write the predictions (No space left on device)" in err
    assert f"the 3 row(s) written before are kept in {out / f'predictions.{fmt}'}" in err
    kept = pd.read_csv(out / "predictions.csv") if fmt == "csv" else pd.DataFrame(
        json.loads((out / "predictions.json").read_text()))
    assert kept["source"].tolist() == ["000.png", "001.png", "002.png"] and not list(out.glob(".tmp_*"))


def test_r3_05_a_full_disk_during_training_is_one_line(tmp_path, capsys, monkeypatch):
    import json

    from fer_keras.training import compute

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "run" / "epoch_times_fold0.csv"))

    monkeypatch.setattr(compute.EpochTimer, "on_epoch_end", full)
    monkeypatch.chdir(tmp_path)
    assert train.main(TINY + ["--set", "training.epochs=2", "--out", str(tmp_path / "run")]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"error: the disk is full writing {tmp_path / 'run' / 'epoch_times_fold0.csv'} "
                          "(No space left on device); free space and run the same command again")
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "failed"


def test_r3_07_stream_rows_reach_the_file_as_frames_are_read(trained_run, tmp_path, capsys, monkeypatch):
    """Camera and video rows were all kept in memory until the stream ended; now each frame's are written then."""
    import cv2
    import numpy as np
    import pandas as pd

    from fer_keras.cli import predict
    from fer_keras.data.readers.synthetic import draw_face
    from fer_keras.inference import video

    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 96))
    for _ in range(5):
        writer.write(cv2.cvtColor(draw_face(0, "happiness", 96, "grayscale"), cv2.COLOR_GRAY2BGR))
    writer.release()
    out = tmp_path / "out"
    temporary = out / ".tmp_predictions.csv"
    seen = []
    real = video.video_rows

    def recording(source, index, *args, **kwargs):  # rows on disk when frame `index` is made
        seen.append(len(pd.read_csv(temporary)) if temporary.exists() and temporary.stat().st_size else 0)
        return real(source, index, *args, **kwargs)

    monkeypatch.setattr(video, "video_rows", recording)
    assert predict.main(["--model", str(trained_run), str(clip), "--out", str(out), "--no-detect"]) == 0
    assert seen == [0, 1, 2, 3, 4]
    assert len(pd.read_csv(out / "predictions.csv")) == 5 and np.isfinite(
        pd.read_csv(out / "predictions.csv")["confidence"]).all()


def test_r3_21_a_keras_file_with_code_is_refused_saying_why_and_how_to_trust_it(photo, tmp_path, capsys, monkeypatch):
    import keras

    from fer_keras.cli import export, predict

    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Lambda(lambda x: x * 2),
                              keras.layers.Flatten(), keras.layers.Dense(7, activation="softmax")])
    path = tmp_path / "lambda.keras"
    model.save(path)
    why = "it holds Python code (a Lambda layer), which Keras' safe mode refuses to run; if you trust its source"
    assert predict.main(["--model", str(path), str(photo)]) == 2
    assert why in one_line_error(capsys)
    assert export.main(["--model", str(path), "--out", str(tmp_path / "export")]) == 2
    assert why in one_line_error(capsys) and not (tmp_path / "export").exists()
    monkeypatch.chdir(tmp_path)
    assert train.main(TINY + ["--set", f"model.init_from={path}", "--set", "training.epochs=1"]) == 2
    assert why in one_line_error(capsys)


def _class_folders(tmp_path, counts):
    import cv2

    from fer_keras.data.readers.synthetic import draw_face

    root = tmp_path / "faces"
    for label, count in counts.items():
        (root / label).mkdir(parents=True)
        for i in range(count):
            cv2.imwrite(str(root / label / f"{label}_{i}.png"), draw_face(i, label, 48, "grayscale"))
    return root


def test_r3_13_a_class_emptied_by_exclusions_stops_the_run(tmp_path, capsys, monkeypatch):
    root = _class_folders(tmp_path, {"happiness": 4, "sadness": 4, "anger": 0})
    for i in range(5):
        (root / "anger" / f"broken_{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    monkeypatch.chdir(tmp_path)
    assert train.main(["--config", "finetune_own_folder.yaml", "--set", f"data.root={root}",
                       "--set", "model.init_from=null", "--set", "training.epochs=1"]) == 2
    assert ("folder: class 'anger' has no usable image left: all 5 of its files were excluded (first: "
            in one_line_error(capsys))


def test_r3_14_identical_files_in_two_classes_are_excluded_as_conflicts_and_broken_links_listed(tmp_path):
    import shutil

    from fer_keras.data.readers.folder import read_folder
    from fer_keras.errors import DatasetError

    root = _class_folders(tmp_path, {"happiness": 12, "sadness": 12})
    for i in range(10):  # the same 10 files filed as happy and as sad
        shutil.copy(root / "happiness" / f"happiness_{i}.png", root / "sadness" / f"copy_{i}.png")
    (root / "sadness" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    result = read_folder(root)
    assert len(result.table) == 2 + 12  # 10 conflicting happy files and their 10 sad copies left out
    reasons = result.excluded.set_index(result.excluded["path"].map(lambda p: p.rsplit("/", 1)[1]))["reason"]
    assert reasons["copy_3.png"].startswith("label conflict: the same image as ") and "happiness, sadness" in reasons[
        "copy_3.png"]
    assert reasons["happiness_3.png"].startswith("label conflict") and reasons["gone.png"].startswith("broken link")
    with pytest.raises(DatasetError, match=r"are the same image filed under classes 'happiness' and 'sadness'"):
        read_folder(root, strict=True)


def test_r3_02_a_huge_photo_is_searched_on_a_bounded_copy(monkeypatch):
    """A 12000x12000 JPEG took 67 s and 18.8 GB (MTCNN on the full image); faces under 1/8 of the short
    side are not sought, so the search runs on a copy of at most 160 px (measured after: 1.6 GB, 21 s
    with TensorFlow's start). A 4000 px frame stands in for it here (48 MB, not 432 MB); with no face
    found, the first pass (faces from 1/4 of the side, at most 80 px) is followed by the full search."""
    import numpy as np

    from fer_keras.config import FaceCropConfig
    from fer_keras.data.faces import detect as face_detect

    seen = []

    class Fake:
        def detect_faces(self, rgb, min_face_size, threshold_onet, scale_factor=0.709):
            seen.append(rgb.shape)
            return []

    monkeypatch.setattr(face_detect, "mtcnn_detector", lambda: Fake())
    assert face_detect.find_detections(np.zeros((4000, 4000, 3), np.uint8), FaceCropConfig(detector="mtcnn")) == []
    assert seen == [(80, 80, 3), (160, 160, 3)]


def test_r3_20_a_damaged_checkpoint_state_is_one_line_from_the_train_command(tmp_path, capsys, monkeypatch):
    import json

    from fer_keras.training import compute

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    calls = []

    real = compute.EpochTimer.on_epoch_end

    def stop_after_one_epoch(self, epoch, logs=None):  # epoch 1 is committed, epoch 2 is interrupted
        calls.append(epoch)
        if epoch >= 1:
            raise KeyboardInterrupt
        real(self, epoch, logs)

    monkeypatch.setattr(compute.EpochTimer, "on_epoch_end", stop_after_one_epoch)
    assert train.main(TINY + ["--set", "training.epochs=3", "--out", str(out)]) == 130
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    states = list(out.glob(".backup_fold0/state.json"))
    assert len(states) == 1, "epoch 1 left a committed checkpoint"
    states[0].write_text(states[0].read_text()[:15])
    assert train.main(TINY + ["--set", "training.epochs=3", "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert f"checkpoint state {states[0]} is damaged (JSONDecodeError); delete {states[0].parent}" in err
    assert json.loads((out / "status.json").read_text())["state"] == "failed"


def test_predict_tf_threads_below_0_is_one_line(trained_run, photo, capsys):
    from fer_keras.cli import predict

    assert predict.main(["--model", str(trained_run), str(photo), "--tf-threads", "-2"]) == 2
    assert "--tf-threads must be 0 (TensorFlow's default) or more, got -2" in one_line_error(capsys)
