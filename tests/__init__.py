"""Test suite; the shared harness gets pytest's assertion messages."""

import pytest

pytest.register_assert_rewrite("tests.harness")
