"""Dataset registry: a name → a reader that returns the common table, checked.

Every reader returns a :class:`DatasetTable`: ``table`` with the columns

    path | image (optional array) | label | subject | dataset | extra columns (angle, usage, …)

``path`` is the image file (``None`` when pixels come in the ``image`` column, as with
FER2013's CSV or synthetic faces); ``label`` is a canonical class name (see
:mod:`fer_keras.labels`); ``subject`` identifies the person (for subject-independent
splits). ``excluded`` lists files that could not be used, with a ``reason``.
Nothing downstream of a reader knows a dataset's name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from fer_keras.errors import DatasetError
from fer_keras.options import unknown_options

REQUIRED_COLUMNS = ("path", "label", "subject", "dataset")
EXCLUDED_COLUMNS = ("path", "label", "reason")



@dataclass
class DatasetTable:
    """What a reader returns: usable samples and the files it had to leave out."""

    table: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(EXCLUDED_COLUMNS)))


Reader = Callable[..., DatasetTable]

_READERS: dict[str, Reader] = {}


def register_reader(name: str) -> Callable[[Reader], Reader]:
    """Decorator: make ``reader`` available as ``data.dataset: name``."""

    def decorate(reader: Reader) -> Reader:
        _READERS[name] = reader
        return reader

    return decorate


def reader_names() -> list[str]:
    """Names of every registered dataset reader."""
    _import_readers()
    return sorted(_READERS)


def read_dataset(name: str, root: str | None = None, **options) -> DatasetTable:
    """Run the reader registered under ``name`` and check what it returns.

    >>> faces = read_dataset("synthetic", n_subjects=2, images_per_class=1)
    >>> len(faces.table), sorted(faces.table.columns)[:3]
    (14, ['dataset', 'image', 'label'])
    """
    _import_readers()
    if name not in _READERS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(_READERS))}")
    reader = _READERS[name]
    unknown, allowed = unknown_options(reader, options, fixed=("root",))
    if unknown:
        raise DatasetError(f"{name}: unknown option {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    result = reader(root, **options)
    check_table(result.table, name)
    return result


def check_table(table: pd.DataFrame, name: str) -> None:
    """Raise a clear error when a reader's table is unusable."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DatasetError(f"{name}: reader returned no {', '.join(missing)} column")
    if table.empty:
        raise DatasetError(f"{name}: no usable images found")


def _import_readers() -> None:
    """Import every module of :mod:`fer_keras.data.readers` so their decorators register them."""
    import pkgutil

    from fer_keras.data import readers

    for module in pkgutil.iter_modules(readers.__path__):
        importlib.import_module(f"{readers.__name__}.{module.name}")
