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
