"""Fixtures shared by the model tests."""

import pytest

from fer_keras.models import weights


@pytest.fixture
def empty_search(tmp_path, monkeypatch):
    """No cache, no FER_KERAS_WEIGHTS_DIR, no shared folder: every lookup starts empty."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(weights.WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.setattr(weights, "SHARED_WEIGHTS_DIR", tmp_path / "no_shared")
    return tmp_path
