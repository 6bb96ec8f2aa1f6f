"""The examples in the public entry points' docstrings run as written (doctest)."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose public functions carry a runnable example.
MODULES = ["fer_keras.config", "fer_keras.data.registry", "fer_keras.inference.predictor", "fer_keras.models.registry",
           "fer_keras.pretrained"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0, f"{name} holds no example"
    assert failed == 0
