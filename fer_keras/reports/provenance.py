"""One line on where a starting model came from: its model, data, epochs run and test accuracy.

A transfer run's report names its starting run directory; that folder can later be replaced
(a longer run moved into its place), so the line is written down when training starts.
"""

from __future__ import annotations

from pathlib import Path

from fer_keras.config import load_run_config
from fer_keras.errors import ConfigError
from fer_keras.reports.run_report import epochs_text, read_histories
from fer_keras.rundir import RunDir


def describe_run(path: str | Path) -> str | None:
    """``custom_cnn2 on fer2013, 75 epochs configured, 8 run (…); test accuracy fer2013 55.61%``, or None
    when ``path`` (a run directory or a model file in one) has no fer_keras config beside it."""
    run = RunDir.of(Path(path) if Path(path).is_dir() else Path(path).parent)
    if not run.config_path.exists():
        return None
    try:
        config = load_run_config(run.config_path)
    except ConfigError:  # a .keras file beside some other project's config.yaml
        return None
    text = f"{config.model.name} on {config.data.dataset}, {epochs_text(config, list(read_histories(run).values()))}"
    if run.metrics_path.exists():
        test_sets = run.read_json(run.metrics_path).get("test_sets", {})
        scores = [f"{name} {100 * stats['accuracy']:.2f}%" for name, stats in test_sets.items() if "accuracy" in stats]
        if scores:
            text += "; test accuracy " + ", ".join(scores)
    return text
