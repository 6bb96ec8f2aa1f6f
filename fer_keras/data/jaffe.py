"""JAFFE: a flat folder of ``KA.AN1.39.tiff`` files (subject, emotion code + repeat, index).

213 grayscale 256×256 images of 10 Japanese women, 7 classes. ``.tif``/``.tiff`` (any
case) and other image extensions are accepted; non-image files (the README) are ignored;
an image whose name does not follow the pattern is excluded with a reason.
Columns: ``subject`` (``KA``), ``repeat`` (1), ``number`` (39).
"""

from __future__ import annotations

import re
from pathlib import Path

from fer_keras.data.image_io import find_layout, list_images, lookup_label, screen_files
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import JAFFE_CODES

NAME = "jaffe"
PATTERN = re.compile(r"^(?P<subject>[A-Za-z]{2})\.(?P<code>[A-Za-z]+)(?P<repeat>\d+)\.(?P<number>\d+)$")
LAYOUT = "a flat folder of files like KA.AN1.39.tiff"


def _has_jaffe_files(folder: Path) -> bool:
    return any(PATTERN.match(p.stem) for p in list_images(folder))


@register_reader(NAME)
def read_jaffe(root, *, strict: bool = False, check: str = "header") -> DatasetTable:
    """Read JAFFE from ``root`` (the image folder, or a folder above it).

    Args:
        root: folder holding the ``.tiff`` files (``jaffedbase/``) or its parent.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    folder = find_layout(root, NAME, _has_jaffe_files, LAYOUT)
    rows, excluded = [], []
    for path in list_images(folder):
        match = PATTERN.match(path.stem)
        if match is None:
            excluded.append({"path": str(path), "label": None, "reason": "file name not like KA.AN1.39.tiff"})
            continue
        rows.append(
            {
                "path": str(path),
                "label": lookup_label(JAFFE_CODES, match["code"].upper(), NAME, path),
                "subject": match["subject"].upper(),
                "repeat": int(match["repeat"]),
                "number": int(match["number"]),
            }
        )
    return screen_files(rows, NAME, strict=strict, check=check, excluded=excluded)
