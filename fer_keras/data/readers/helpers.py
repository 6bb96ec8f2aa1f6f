"""Steps the dataset readers share: walk folders, find the layout, look up label codes, screen files.

:func:`screen_files` checks each file (:func:`fer_keras.data.image_io.check_image`) and splits the
rows into the reader's table and its exclusion rows (path, label, reason); :func:`make_table`
builds that :class:`~fer_keras.data.registry.DatasetTable`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from fer_keras.data.image_io import CHECK_MODES, check_image, is_image_file
from fer_keras.errors import DatasetError
from fer_keras.data.registry import EXCLUDED_COLUMNS, DatasetTable
from fer_keras.errors import UnknownLabelError
from fer_keras.labels import lookup


def list_images(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (sorted; hidden files and folders skipped)."""
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if is_image_file(p) and p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def visible_files(folder: str | os.PathLike) -> list[Path]:
    """Every visible file below ``folder``, sorted (hidden and ``__`` files and folders skipped,
    symlinked folders not followed): what a reader saw, to account for each file it does not use."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith((".", "__")) for part in parts) or not path.is_file():
            continue
        if any((folder / Path(*parts[:i])).is_symlink() for i in range(1, len(parts))):
            continue
        found.append(path)
    return found


def natural_key(path: str | os.PathLike) -> list:
    """Sort key that orders ``2.jpeg`` before ``10.jpeg``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", Path(path).name)]


def subfolders(folder: str | os.PathLike) -> list[Path]:
    """Visible sub-folders of ``folder``, sorted (``.git``, ``__MACOSX`` and the like skipped).

    A symbolic link back to the folder or one above it (``ln -s . loop``) is skipped: it would
    read every image a second time as a new class.
    """
    folder = Path(folder)
    here = folder.resolve()
    return sorted(
        p for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith((".", "__"))
        and not (p.is_symlink() and (p.resolve() == here or p.resolve() in here.parents))
    )


def screen_files(
    rows: list[dict],
    dataset: str,
    *,
    strict: bool = False,
    check: str = "header",
    excluded: Iterable[dict] = (),
) -> DatasetTable:
    """Check every row's ``path`` and split the rows into a usable table and an exclusion table.

    ``excluded`` carries rows the reader already rejected (e.g. a file name out of pattern).
    In ``strict`` mode the first unusable file raises :class:`DatasetError`. Rows are sorted
    by path so the table does not depend on the file system's listing order.
    """
    if check not in CHECK_MODES:
        raise DatasetError(f"{dataset}: unknown check {check!r}; use one of {', '.join(CHECK_MODES)}")
    left_out = list(excluded)
    if strict and left_out:
        first = left_out[0]
        raise DatasetError(f"{dataset}: {first['path']}: {first['reason']} (strict mode)")
    kept = []
    for row in rows:
        reason = None if check == "none" else check_image(row["path"], decode=check == "decode")
        if reason is None:
            kept.append(row)
            continue
        if strict:
            raise DatasetError(f"{dataset}: {row['path']}: {reason} (strict mode)")
        left_out.append({"path": row["path"], "label": row.get("label"), "reason": reason})
    return make_table(kept, dataset, left_out)


def make_table(rows: list[dict], dataset: str, excluded: Iterable[dict] = ()) -> DatasetTable:
    """Rows (dicts) → :class:`DatasetTable` with ``dataset`` filled in and a stable order."""
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=["path", "label", "subject", "dataset"])
    table["dataset"] = dataset
    if "path" in table.columns and table["path"].notna().all() and len(table):
        table = table.sort_values("path", kind="stable")
    table = table.reset_index(drop=True)
    excluded = pd.DataFrame(list(excluded), columns=list(EXCLUDED_COLUMNS))
    return DatasetTable(table, excluded)


def find_layout(root: str | os.PathLike | None, dataset: str, matches: Callable[[Path], bool], expected: str) -> Path:
    """The first of ``root``, its sub-folders and theirs (breadth first) that ``matches``.

    Users may point at the folder the archive unpacked to or one level above it; anything
    else raises one :class:`DatasetError` line saying which layout was expected.
    """
    if root is None:
        raise DatasetError(f"{dataset}: no root given; set data.root to the dataset folder ({expected})")
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{dataset}: root {root} does not exist; expected {expected}")
    level = [root] if root.is_dir() else []
    for _ in range(3):
        for folder in level:
            if matches(folder):
                return folder
        level = [child for folder in level for child in subfolders(folder)]
    raise DatasetError(f"{dataset}: expected {expected} in {root}; found none")


def lookup_label(code_map: dict, code, dataset: str, path: str | os.PathLike) -> str:
    """Canonical class of ``code``; an unknown code raises one :class:`DatasetError` line naming the file."""
    try:
        return lookup(code_map, code, dataset, where=str(path))
    except UnknownLabelError as error:
        raise DatasetError(str(error)) from None
