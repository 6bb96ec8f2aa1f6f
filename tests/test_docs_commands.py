"""Docs as tests: every shell command in README.md and docs/reproduce.md is checked, the README's
train → predict → export → report chain runs as written, and every reproduce.md training command runs
with a synthetic stand-in for its data (tiny form: synthetic faces, 1 epoch; most marked slow). The
commands that need finished runs first (the ensemble, ``report --seeds``, ``pretrained.bundle``, the
cross-dataset benchmark) run after the documented commands that make those runs.

A documented command that no longer parses, names a config that is gone or sets a key that
does not exist fails here, and so does one of the README's commands that stops working.
"""

from __future__ import annotations

import importlib
import re
import shlex

import cv2
import pandas as pd
import pytest

from fer_keras.config import load_config
from tests.markers import REPO

DOCS = ("README.md", "docs/reproduce.md")
#: What ``T`` stands for in docs/reproduce.md.
T = "python -m fer_keras.train --config"
#: Modules a documented command may run, and the function that parses its arguments.
PARSERS = {"fer_keras.train": "fer_keras.cli.train", "fer_keras.predict": "fer_keras.cli.predict",
           "fer_keras.export": "fer_keras.cli.export", "fer_keras.report": "fer_keras.cli.report",
           "fer_keras.pretrained.bundle": "fer_keras.pretrained.bundle"}
#: The console scripts setup.cfg installs, as the modules they run.
CONSOLE_SCRIPTS = {"fer-train": "python -m fer_keras.train", "fer-predict": "python -m fer_keras.predict",
                   "fer-export": "python -m fer_keras.export", "fer-report": "python -m fer_keras.report"}
#: Commands about the environment, not fer_keras's arguments.
ENVIRONMENT = ("python3 -m venv", ". .venv/bin/activate", "pip install", "python -m pytest")


def documented_commands() -> list[tuple[str, str]]:
    """(doc, command) for every line of a ```bash block and every inline `T ...` / `python ...` command."""
    found = []
    for doc in DOCS:
        text = (REPO / doc).read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = line.split("  #")[0].strip()
                if line and not line.startswith("#"):
                    found += [(doc, part.strip()) for part in line.split("&&")]
        for inline in re.findall(r"`((?:T |python -m |python benchmarks/)[^`]*)`", text):
            found.append((doc, inline.replace("T ", T + " ", 1) if inline.startswith("T ") else inline))
    found = [(doc, _as_module(command)) for doc, command in found]
    bare = {T} | {f"python -m {module}" for module in PARSERS}  # a name in prose, not a command to run
    return [(doc, command) for doc, command in dict.fromkeys(found)
            if command not in bare and not command.startswith(ENVIRONMENT)]


def _as_module(command: str) -> str:
    """``fer-predict photo.jpg`` → ``python -m fer_keras.predict photo.jpg`` (what the console script runs)."""
    script, _, rest = command.partition(" ")
    return f"{CONSOLE_SCRIPTS[script]} {rest}".strip() if script in CONSOLE_SCRIPTS else command


def test_console_scripts_are_the_documented_modules():
    """setup.cfg's console scripts run the modules the docs name for them."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    entries = dict(line.split(" = ") for line in parser["options.entry_points"]["console_scripts"].split("\n") if line)
    documented = {name: PARSERS[command.split()[-1]] for name, command in CONSOLE_SCRIPTS.items()}
    assert {name: target.split(":")[0] for name, target in entries.items()} == documented
    for command in CONSOLE_SCRIPTS.values():  # python -m fer_keras.<command> runs the same main
        module = command.split()[-1]
        assert importlib.import_module(module).main is importlib.import_module(PARSERS[module]).main
    readme = (REPO / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in CONSOLE_SCRIPTS)


COMMANDS = documented_commands()


def test_the_docs_hold_commands():
    assert len(COMMANDS) >= 50
    assert any("fer_keras.predict" in c for _, c in COMMANDS) and any("fer_keras.export" in c for _, c in COMMANDS)


@pytest.mark.parametrize("doc, command", COMMANDS, ids=[c[:70] for _, c in COMMANDS])
def test_documented_command_parses_and_names_real_configs_and_keys(doc, command):
    words = shlex.split(command)
    if words[:2] == ["python", "-m"] and words[2].startswith(("tools.", "benchmarks.")):  # a repository tool
        with pytest.raises(SystemExit) as done:
            importlib.import_module(words[2]).main(["--help"])
        assert done.value.code == 0
    elif words[:2] == ["python", "-m"]:
        module = words[2]
        assert module in PARSERS, f"{doc}: unknown module in {command!r}"
        args = importlib.import_module(PARSERS[module]).parse_args(words[3:])
        if module == "fer_keras.train":
            load_config(args.config, args.overrides)  # the config exists and every --set key is real
    else:
        assert words[0] == "python" and (REPO / words[1]).is_file(), f"{doc}: {command!r} runs no existing script"
        script = importlib.import_module(words[1].removesuffix(".py").replace("/", "."))
        with pytest.raises(SystemExit) as done:
            script.main(["--help"])
        assert done.value.code == 0


#: The README's commands that train, predict, export and report, in the order a user runs them.
README_CHAIN = [c for doc, c in COMMANDS if doc == "README.md" and c.startswith("python -m fer_keras.")]
#: Added to every documented training command: synthetic faces, tiny, one epoch.
TINY = ["--set", "data.options.n_subjects=12", "--set", "data.options.images_per_class=1", "--set", "training.epochs=1",
        "--set", "report.html=false"]


def test_readme_commands_run_in_tiny_form(tmp_path, monkeypatch, capsys):
    """Each README command, run as written with its placeholders filled and TINY added to trainings."""
    from fer_keras.data.readers.synthetic import draw_face
    from fer_keras.labels import CLASSES_7
    from tests.inference.fakes import place, write_video

    monkeypatch.chdir(tmp_path)
    for index, label in enumerate(CLASSES_7[:3]):  # my_faces/<class>/*.png for the own-data command
        (tmp_path / "my_faces" / label).mkdir(parents=True)
        for k in range(6):
            face = place(draw_face(10 * index + k, label, 160, "rgb"), at=(240, 160))
            cv2.imwrite(str(tmp_path / "my_faces" / label / f"p{k}_{k}.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
    (tmp_path / "photos").mkdir()
    photo = place(draw_face(99, "happiness", 160, "rgb"), at=(240, 160))
    for name in ("photo.jpg", "photos/a.jpg"):
        cv2.imwrite(name, cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    write_video(tmp_path / "clip.mp4", [photo] * 3)
    quickstart = "reports/quickstart/run"
    filled = {"reports/quickstart/<timestamp>": quickstart, "RUN_DIR": quickstart}
    ran = 0
    for command in README_CHAIN:
        for placeholder, value in filled.items():
            command = command.replace(placeholder, value)
        words = shlex.split(command)
        module, argv = words[2], words[3:]
        if module == "fer_keras.predict" and argv[-2:] == ["0", "--show"]:
            continue  # a camera: none here
        if module == "fer_keras.train":
            config = load_config(argv[argv.index("--config") + 1])
            argv += TINY if config.data.dataset == "synthetic" else ["--set", "training.epochs=1"]
            if "--out" not in argv:
                first = config.experiment == "quickstart" and not (tmp_path / quickstart).exists()
                argv += ["--out", quickstart if first else f"reports/{config.experiment}/run{ran}"]
        if module == "fer_keras.report" and "--seeds" in argv:
            continue  # needs three seed runs first: test_seeds_summary_command_runs_after_three_seeded_runs
        main = importlib.import_module(PARSERS[module]).main
        assert main(argv) == 0, f"README command failed: {command}"
        ran += 1
    assert ran >= 8
    assert (tmp_path / "preds" / "annotated").is_dir() and (tmp_path / "export").is_dir()


#: docs/reproduce.md's training commands (real datasets) and the configs they name.
REPRODUCE_TRAININGS = [c for doc, c in COMMANDS if doc == "docs/reproduce.md" and c.startswith(T + " ")]
#: One config per experiment mode runs in the default suite (seconds each); the other reproduce.md
#: commands are marked slow: each is seconds for the small CNNs (all 21 together about 7 minutes on
#: 2 cores) and minutes for the 224 px ImageNet backbones.
DEFAULT_REPRODUCE = ("fer2013_model2.yaml", "jaffe_model2_transfer.yaml", "jaffe_model2_loso.yaml",
                     "kdef_cnn2_48.yaml", "ckplus48_subject_kfold.yaml")


def synthetic_stand_in(config) -> list[str]:
    """Overrides that run ``config`` on a few synthetic faces for one epoch: every dataset swapped,
    no ImageNet file, no Grad-CAM, tiny balancing; the model, split kind and protocol stay."""
    side = max(48, min(256, max(config.data.image_size)))
    faces = f"{{n_subjects: 12, images_per_class: 1, image_size: {side}}}"
    swap = ["dataset=synthetic", "root=null", f"options={faces}", "face_crop.enabled=false"]
    overrides = [f"data.{s}" for s in swap] + [
        "training.epochs=1", "model.weights=null", "report.gradcam.enabled=false", "split.folds=2",
        "runtime.verbose=0", "report.html=false"]
    if config.split.kind == "official":  # the official split lives in the real files' names
        overrides.append("split.kind=holdout")
    if config.augmentation.balance_target:
        overrides.append("augmentation.balance_target=100")
    for i, _ in enumerate(config.test_datasets):
        overrides += [f"test_datasets.{i}.{s}" for s in swap]
    if config.transfer is not None:
        overrides += [f"transfer.source.{s}" for s in swap] + ["transfer.source_model=null", "transfer.source_epochs=1"]
        if config.transfer.source_split.kind == "official":
            overrides.append("transfer.source_split.kind=holdout")
    return overrides


def _reproduce_params():
    params = []
    for command in REPRODUCE_TRAININGS:
        words = shlex.split(command)
        config = load_config(words[words.index("--config") + 1])
        if config.ensemble is not None:
            continue  # averages finished member runs: covered by tests/training (ensemble mode)
        name = command.split()[4]
        params.append(pytest.param(command, marks=[] if name in DEFAULT_REPRODUCE else [pytest.mark.slow], id=name))
    return params


def train_tiny(command: str, out: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """Run a documented training command with the synthetic stand-in for its data; returns the run folder
    (its own ``--out`` unless ``out`` is given)."""
    from fer_keras.cli import train

    argv = shlex.split(command)[3:]
    config = load_config(argv[argv.index("--config") + 1], [v for k, v in zip(argv, argv[1:]) if k == "--set"])
    if "--out" in argv:
        at = argv.index("--out")
        out = out or argv[at + 1]
        del argv[at:at + 2]
    tiny = [item for override in synthetic_stand_in(config) for item in ("--set", override)]
    assert train.main(argv + tiny + list(extra) + ["--out", str(out)]) == 0, command
    return str(out)


def documented(doc: str, start: str) -> str:
    """The one command of ``doc`` that starts with ``start``."""
    (command,) = [c for d, c in COMMANDS if d == doc and c.startswith(start)]
    return command


@pytest.mark.parametrize("command", _reproduce_params())
def test_reproduce_training_command_runs_in_tiny_form(command, tmp_path, monkeypatch):
    """docs/reproduce.md's command, as written, plus a synthetic stand-in for its data (one epoch)."""
    monkeypatch.chdir(tmp_path)
    run = tmp_path / train_tiny(command, out=str(tmp_path / "run"))
    assert (run / ("seeds_summary.md" if "--seeds" in command else "report.md")).is_file()


# --- the documented commands that need finished runs first -----------------------------------------

@pytest.mark.slow  # Models 1 and 3 (20 M and 6 M parameters): about a minute on 2 cores
def test_ensemble_command_runs_after_the_three_member_commands(tmp_path, monkeypatch):
    """``T fer2013_ensemble.yaml`` after Models 1-3's commands, each at the ``--out`` it documents."""
    import json

    monkeypatch.chdir(tmp_path)
    members = [train_tiny(documented("docs/reproduce.md", f"{T} fer2013_model{n}.yaml")) for n in (1, 2, 3)]
    assert members == list(load_config("fer2013_ensemble.yaml").ensemble.members)
    run = tmp_path / train_tiny(documented("docs/reproduce.md", f"{T} fer2013_ensemble.yaml"), out="ensemble")
    metrics = json.loads((run / "metrics.json").read_text())
    assert (run / "report.md").is_file() and metrics["test_sets"], metrics


def test_seeds_summary_command_runs_after_three_seeded_runs(tmp_path, monkeypatch):
    """The README's ``report --seeds`` line after three quickstart runs (``--set seed=N``) at its paths."""
    from fer_keras.cli import report

    monkeypatch.chdir(tmp_path)
    command = documented("README.md", "python -m fer_keras.report --seeds")
    argv = shlex.split(command)[3:]
    runs = argv[1:argv.index("--out")]
    for seed, run in enumerate(runs, start=1):
        train_tiny(f"{T} quickstart.yaml", out=run, extra=("--set", f"seed={seed}"))
    assert report.main(argv) == 0, command
    out = tmp_path / argv[argv.index("--out") + 1]
    assert len(pd.read_csv(out / "seeds_summary.csv")) >= 1 and (out / "seeds_summary.md").is_file()


def test_bundle_command_runs_on_a_bundled_recipe_run(tmp_path, monkeypatch):
    """reproduce.md's recipe run, then its ``pretrained.bundle`` line (into a temporary --target, not the
    package); the bundle then predicts as the shipped one does."""
    import numpy as np

    from fer_keras.inference.predictor import Predictor
    from fer_keras.pretrained import bundle

    monkeypatch.chdir(tmp_path)
    train_tiny(documented("docs/reproduce.md", f"{T} fer2013_bundled.yaml"))
    command = documented("docs/reproduce.md", "python -m fer_keras.pretrained.bundle")
    assert bundle.main(shlex.split(command)[3:] + ["--target", "bundle"]) == 0, command
    predictor = Predictor.load(tmp_path / "bundle", detect=False)
    (face,) = predictor.predict(np.full((48, 48, 1), 128, np.uint8))
    assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_cross_dataset_command_runs_on_datasets_in_the_shared_layout(tmp_path, monkeypatch):
    """reproduce.md's cross-dataset line after Model 2's command, on JAFFE and CK+48 fixtures laid out
    as ../shared/datasets is (``--datasets``), without the ``fer`` package (``--no-fer``)."""
    import importlib

    from tests.data.fixtures import make_ckplus48, make_jaffe_class_folders

    monkeypatch.chdir(tmp_path)
    datasets = tmp_path / "datasets"
    make_jaffe_class_folders(datasets)
    make_ckplus48(datasets)
    train_tiny(documented("docs/reproduce.md", f"{T} fer2013_model2.yaml"))
    command = documented("docs/reproduce.md", "python benchmarks/cross_dataset.py").replace("DIR", "cross")
    script = importlib.import_module("benchmarks.cross_dataset")
    assert script.main(shlex.split(command)[2:] + ["--datasets", str(datasets), "--no-fer"]) == 0, command
    table = pd.read_csv(tmp_path / "cross" / "cross_dataset.csv")
    assert set(table["test_set"]) == {"JAFFE (face detection)", "CK+48 (crops, 6 classes)"}


@pytest.mark.parametrize("module", sorted(PARSERS))
def test_help_shows_the_whole_description_without_markup(module, capsys, monkeypatch):
    """--help prints every paragraph of the command's docstring, reST backticks removed, under its script's name."""
    monkeypatch.setattr("sys.argv", ["/venv/bin/fer-anything"])
    command = importlib.import_module(PARSERS[module])
    with pytest.raises(SystemExit) as done:
        command.parse_args(["--help"])
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "``" not in shown and shown.startswith("usage: fer-anything")
    for paragraph in command.__doc__.strip().split("\n\n"):
        assert " ".join(paragraph.replace("``", "").split()) in shown, paragraph[:60]
