"""tools/face_free_example.py: a run on a research-only dataset becomes a committable, face-free example."""

import re
import subprocess
import sys

import pytest
import yaml

from tests.test_committed_examples import FACE_OR_MODEL
from tools.face_free_example import make_example

TINY = ["data.options.n_subjects=10", "data.options.images_per_class=1", "training.batch_size=16",
        "training.epochs=1", "model.name=simple_cnn", "report.sample_predictions=3"]


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    """A quickstart run over seeds 1 and 2 whose config names an absolute data root, with face figures on."""
    base = tmp_path_factory.mktemp("face_free")
    overrides = [item for value in TINY + [f"data.root={base / 'datasets' / 'SYN'}"] for item in ("--set", value)]
    done = subprocess.run([sys.executable, "-m", "fer_keras.train", "--config", "quickstart.yaml", *overrides,
                           "--seeds", "1", "2", "--out", str(base / "run")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (base / "run" / "seed1" / "emotion_analysis.png").exists()  # the run itself shows faces
    return base / "run"


def test_example_keeps_numbers_and_drops_faces_models_and_local_paths(seeds_run, tmp_path):
    dest = make_example(seeds_run, tmp_path / "example")
    names = {p.name for p in dest.iterdir()}
    assert not [n for n in names if FACE_OR_MODEL.match(n)]
    assert not names & {"predictions.csv", "predictions_fold0.csv", "splits.json", "report.html"}
    assert {"metrics.json", "metrics_seed2.json", "seeds_summary.csv", "seeds_summary.md", "report.md",
            "confusion_matrix.png", "config.yaml"} <= names
    config = yaml.safe_load((dest / "config.yaml").read_text())
    assert config["report"]["sample_faces"] is False and config["data"]["root"] == "path/to/SYN"
    report = (dest / "report.md").read_text()
    assert "emotion_analysis" not in report
    assert all((dest / target).exists() for target in re.findall(r"\]\(([^)#:]+)\)", report))
    for path in dest.iterdir():
        if path.suffix != ".png":
            assert "/tmp/" not in path.read_bytes().decode(), path.name
    history = "history_fold0.csv"
    assert (dest / history).read_bytes() == (seeds_run / "seed1" / history).read_bytes()


def test_a_local_path_it_cannot_name_stops_it_and_writes_nothing(seeds_run, tmp_path):
    stray = seeds_run / "seed1" / "extra_note.txt"
    stray.write_text(f"copied from {seeds_run}\n")
    try:
        with pytest.raises(SystemExit, match="extra_note.txt still names a local path"):
            make_example(seeds_run, tmp_path / "example")
        assert not (tmp_path / "example").exists()
        done = make_example(seeds_run, tmp_path / "example", {str(seeds_run): "path/to/run"})
        assert (done / "extra_note.txt").read_text() == "copied from path/to/run\n"
    finally:
        stray.unlink()


def test_an_unfinished_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit, match="not a finished run"):
        make_example(tmp_path / "run", tmp_path / "example")
