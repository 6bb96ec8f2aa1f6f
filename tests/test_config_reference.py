"""fer_keras/config_reference.py: the generated reference covers every key and matches docs/configuration.md."""

from pathlib import Path

from fer_keras.config import ExperimentConfig, TrainingConfig
from fer_keras.config_reference import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_key_is_documented():
    text = reference()
    for name in list(ExperimentConfig.model_fields) + list(TrainingConfig.model_fields):
        assert f"| `{name}` |" in text, name
    assert "## `report.gradcam`" in text and "## `test_datasets[]`" in text
    assert "|  |" not in text, "a key without a meaning"


def test_docs_file_is_up_to_date():
    assert DOC.read_text() == reference(), "regenerate: python -m fer_keras.config_reference > docs/configuration.md"
