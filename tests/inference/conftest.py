"""Fixtures shared by the inference tests: a tiny run directory and its Predictor."""

from __future__ import annotations

import pytest

from fer_keras.inference.predictor import Predictor
from tests.inference.fakes import make_run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run_dir(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def predictor(run_dir):
    return Predictor.load(run_dir)
