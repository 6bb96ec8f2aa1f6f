"""Checking keyword options from a config against the function that will receive them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable


def unknown_options(func: Callable, options: Iterable[str], fixed: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Options ``func`` does not accept (none when it takes ``**kwargs``), and those it does, less ``fixed``."""
    parameters = inspect.signature(func).parameters
    allowed = [k for k, p in parameters.items() if k not in set(fixed) and p.kind is not p.VAR_KEYWORD]
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return [], allowed
    return sorted(set(options) - set(parameters)), allowed
