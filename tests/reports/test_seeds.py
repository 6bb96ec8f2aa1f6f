"""fer_keras/reports/seeds.py and ``python -m fer_keras.report --seeds``: mean ± SD over seeded runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fer_keras.cli import report
from fer_keras.config import load_config


def fake_run(folder, seed: int, accuracies: dict[str, float]):
    folder.mkdir(parents=True)
    config = load_config("jaffe_model2_transfer.yaml", [f"seed={seed}"])
    (folder / "config.yaml").write_text(config.to_yaml())
    sets = {name: {"fold_mean_sd": {"mean": value, "sd": 0.0, "n": 1}} for name, value in accuracies.items()}
    (folder / "metrics.json").write_text(json.dumps({"classes": [], "test_sets": sets}))
    return folder


def test_seeds_summary_gives_mean_sd_and_the_papers_number(tmp_path, capsys):
    runs = [fake_run(tmp_path / f"s{seed}", seed, {"jaffe · fine-tuned": a, "jaffe · scratch": b})
            for seed, a, b in ((1, 0.70, 0.60), (2, 0.80, 0.62), (3, 0.75, 0.64))]
    assert report.main(["--seeds", *map(str, runs), "--out", str(tmp_path / "sum")]) == 0
    rows = pd.read_csv(tmp_path / "sum" / "seeds_summary.csv", dtype=str).values.tolist()
    assert rows == [["jaffe · fine-tuned", "1, 2, 3", "70.00, 80.00, 75.00", "75.00 ± 5.00", "79.07"],
                    ["jaffe · scratch", "1, 2, 3", "60.00, 62.00, 64.00", "62.00 ± 2.00", "74.42"]]
    assert "75.00 ± 5.00" in (tmp_path / "sum" / "seeds_summary.md").read_text()


def test_seeds_summary_of_an_unfinished_run_is_one_line(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert report.main(["--seeds", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'run'}: no metrics.json (not a finished run)"


def test_several_run_dirs_without_seeds_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit):
        report.main([str(tmp_path), str(tmp_path)])
