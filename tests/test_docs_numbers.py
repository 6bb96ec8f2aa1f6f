"""tools/render_docs.py: every measured number in the user docs is generated from a committed result file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import render_docs
from tools.blocks import block_names, fill_blocks, markdown_table
from tools.results import ALL, PAPER_C, REPO, Result

USER_DOCS = [REPO / "README.md", REPO / "docs" / "reproduce.md", REPO / "docs" / "model_card.md",
             REPO / "reports" / "benchmarks.md"]


@pytest.mark.parametrize("path", list(render_docs.expected()), ids=lambda p: str(p.relative_to(REPO)))
def test_each_document_says_what_its_result_files_say(path: Path):
    assert path.read_text() == render_docs.expected()[path], \
        f"{path.relative_to(REPO)} differs from its result files: run python -m tools.render_docs"


def test_check_mode_names_a_stale_document_and_writes_nothing(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "README.md"
    original = (REPO / "README.md").read_text()
    changed = original.replace("| 61.19 | 60.55 |", "| 61.19 | 61.55 |")
    assert changed != original, "the README's results table lost Model 1's row"
    doc.write_text(changed)
    monkeypatch.setattr(render_docs, "DOCUMENTS", [doc])
    monkeypatch.setattr(render_docs, "expected", lambda: {doc: render_docs.rendered(doc)})
    assert render_docs.main(["--check"]) == 1
    assert "differs" in capsys.readouterr().out and doc.read_text() == changed
    assert render_docs.main([]) == 0 and doc.read_text() == original


def test_every_renderer_has_a_block_and_every_block_a_renderer():
    names = [name for path in USER_DOCS for name in block_names(path.read_text())]
    assert set(names) == set(render_docs.RENDERERS)
    with pytest.raises(KeyError, match="no renderer"):
        fill_blocks("<!-- generated: nope -->\nx\n<!-- end generated: nope -->\n", {})


def test_every_relative_link_in_the_docs_points_at_a_committed_file():
    """Generated blocks and hand-written text (lab notes included): a removed example leaves no dead link."""
    for path in dict.fromkeys([*USER_DOCS, *sorted((REPO / "docs").glob("*.md"))]):
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (path.parent / target).resolve().is_file(), f"{path.name}: {target}"


def test_results_read_their_runs():
    """Cells come from the run files: a partial run says so, seeds give their mean ± SD, paper numbers sit beside."""
    by_run = {(r.run, r.test_set): r for r in ALL}
    model3 = Result("C", "Table 5, Model 3", "fer2013_model3.yaml", "fer2013_model3_partial", "fer2013", 61.62)
    assert model3.epochs == "27 of 75 (partial)" and model3.measured == "65.73" and model3.paper_cell == "61.62"
    jaffe = by_run["jaffe_model2_transfer", "jaffe · fine-tuned"]
    assert jaffe.measured == "75.97 ± 3.55" and jaffe.seeds == "1, 2, 3" and jaffe.images == 43
    assert all(r.paper_value is not None for r in PAPER_C if "ensemble" not in r.experiment)
    assert by_run["quickstart", "synthetic"].paper_cell == "—"  # synthetic faces: no paper measured them


def test_a_listed_jaffe_gap_without_its_summary_stops_the_render(monkeypatch):
    monkeypatch.setattr(render_docs, "JAFFE_GAPS", [("no_such_run", "Model 2, scratch", "batch 16", 74.42)])
    with pytest.raises(FileNotFoundError, match="no_such_run"):
        render_docs.jaffe_gaps()


def test_user_docs_cite_no_file_outside_the_repository():
    for path in USER_DOCS + [REPO / "docs" / "lab_notes.md"]:
        assert "../shared" not in path.read_text().replace("`../shared/datasets/`", ""), path.name


def test_markdown_table_aligns_columns():
    assert markdown_table(["a", "b"], [[1, 2]], "lr") == "| a | b |\n|---|---:|\n| 1 | 2 |"
