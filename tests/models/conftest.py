"""Fixtures shared by the model tests."""

import pytest

from fer_keras.models import weights


@pytest.fixture
def empty_search(tmp_path, monkeypatch):
    """No cache, no FER_KERAS_WEIGHTS_DIR: every lookup starts empty."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(weights.WEIGHTS_DIR_ENV, raising=False)
    return tmp_path
