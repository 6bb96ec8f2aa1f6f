"""Docs as tests: every shell command in README.md and docs/reproduce.md is checked, and the README's
train → predict → export → report chain runs as written, in tiny form (synthetic faces, 1 epoch).

A documented command that no longer parses, names a config that is gone or sets a key that
does not exist fails here, and so does one of the README's commands that stops working.
"""

from __future__ import annotations

import importlib
import re
import shlex

import cv2
import pytest

from fer_keras.config import load_config
from tests.conftest import REPO

DOCS = ("README.md", "docs/reproduce.md")
#: What ``T`` stands for in docs/reproduce.md.
T = "python -m fer_keras.train --config"
#: Modules a documented command may run, and the function that parses its arguments.
PARSERS = {"fer_keras.train": "fer_keras.train", "fer_keras.predict": "fer_keras.predict",
           "fer_keras.export": "fer_keras.export", "fer_keras.report": "fer_keras.report",
           "fer_keras.pretrained.bundle": "fer_keras.pretrained.bundle"}
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
    return [(doc, command) for doc, command in dict.fromkeys(found)
            if command != T and not command.startswith(ENVIRONMENT)]


COMMANDS = documented_commands()


def test_the_docs_hold_commands():
    assert len(COMMANDS) >= 50
    assert any("fer_keras.predict" in c for _, c in COMMANDS) and any("fer_keras.export" in c for _, c in COMMANDS)


@pytest.mark.parametrize("doc, command", COMMANDS, ids=[c[:70] for _, c in COMMANDS])
def test_documented_command_parses_and_names_real_configs_and_keys(doc, command):
    words = shlex.split(command)
    if words[:2] == ["python", "-m"]:
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
    from fer_keras.data.synthetic import draw_face
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
            continue  # needs three seed runs of one experiment; tests/reports covers the summary
        main = importlib.import_module(PARSERS[module]).main
        assert main(argv) == 0, f"README command failed: {command}"
        ran += 1
    assert ran >= 8
    assert (tmp_path / "preds" / "annotated").is_dir() and (tmp_path / "export").is_dir()
