"""notebooks/: every walkthrough executes top to bottom on synthetic data (fast mode)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_walkthroughs_exist():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"][: len(NOTEBOOKS)] and len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_KERAS_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("FER_KERAS_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("PYTHONPATH", str(path.parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert list((tmp_path / "runs").rglob("report.md")), "the notebook wrote no report"


@pytest.mark.parametrize("full, epochs, balance_target", [(None, 5, 420), ("1", 10, 79450)])
def test_jaffe_notebook_with_real_data_runs_the_short_schedule_unless_asked(full, epochs, balance_target, monkeypatch):
    """JAFFE_ROOT alone no longer starts the paper's day-long schedule; FER_KERAS_NOTEBOOK_FULL=1 does."""
    monkeypatch.delenv("FER_KERAS_NOTEBOOK_FAST", raising=False)
    monkeypatch.setenv("JAFFE_ROOT", "/data/jaffe")
    if full:
        monkeypatch.setenv("FER_KERAS_NOTEBOOK_FULL", full)
    else:
        monkeypatch.delenv("FER_KERAS_NOTEBOOK_FULL", raising=False)
    notebook = nbformat.read(NOTEBOOKS[1], as_version=4)
    assert NOTEBOOKS[1].stem.startswith("02")
    namespace: dict = {}
    for cell in [c for c in notebook.cells if c.cell_type == "code"][:2]:  # the settings, not the training
        exec(cell.source, namespace)  # noqa: S102 - the notebook's own code
    config = namespace["config"]
    assert config.data.root == "/data/jaffe" and config.training.epochs == epochs
    assert config.augmentation.balance_target == balance_target
