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


def test_types_are_shown_without_validator_metadata():
    """Path keys carry a ``~``-expanding validator and margin a bounded float: the reference shows plain types."""
    text = reference()
    assert "Annotated" not in text and "FieldInfo" not in text and "BeforeValidator" not in text
    assert "| `root` | str \\| None |" in text and "| `members` | list[str] |" in text
    assert "| `margin` | Union[float, Literal['fer2013']] |" in text
