"""JAFFE reader: ``KA.AN1.39.tiff`` files (subject, emotion code + repeat, index), flat or in class folders.

213 grayscale 256×256 images of 10 Japanese women, 7 classes. The publisher's release is one
flat folder; common redistributions put the same files in class folders
(``Data/3 - Surprise/KA.SU1.36.tiff``) or convert them to PNG/JPEG. Images are identified by
the codes in their file names, wherever they lie below the dataset folder, so every layout
reads as the same images. Every file seen and not used goes to the exclusion table with a
reason: not an image, a name out of pattern, a second copy of an image already read (the
TIFF original is kept; ``YM.SU3.60.jpg`` beside ``YM.SU3.60.tiff``), or a class folder that
contradicts the file's code.
Columns: ``subject`` (``KA``), ``repeat`` (1), ``number`` (39).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fer_keras.data.image_io import is_image_file
from fer_keras.data.readers.helpers import (
    find_layout,
    list_images,
    lookup_label,
    screen_files,
    subfolders,
    visible_files,
)
from fer_keras.data.registry import EXCLUDED_COLUMNS, DatasetTable, register_reader
from fer_keras.labels import JAFFE_CODES, class_of_folder

NAME = "jaffe"
PATTERN = re.compile(r"^(?P<subject>[A-Za-z]{2})\.(?P<code>[A-Za-z]+)(?P<repeat>\d+)\.(?P<number>\d+)$")
LAYOUT = "files like KA.AN1.39.tiff, in one folder or in class folders"
#: Which copy of one image is kept when several formats are found (the publisher's TIFF first).
FORMAT_PREFERENCE = (".tiff", ".tif", ".png", ".bmp", ".jpg", ".jpeg")


def _has_jaffe_files(folder: Path) -> bool:
    return any(PATTERN.match(p.stem) for f in (folder, *subfolders(folder)) for p in list_images(f))


def _preference(path: Path) -> tuple[int, str]:
    suffix = path.suffix.lower()
    rank = FORMAT_PREFERENCE.index(suffix) if suffix in FORMAT_PREFERENCE else len(FORMAT_PREFERENCE)
    return rank, str(path)


@register_reader(NAME)
def read_jaffe(root, *, strict: bool = False, check: str = "header") -> DatasetTable:
    """Read JAFFE from ``root`` (the image folder, the folder of class folders, or a folder above).

    Args:
        root: folder holding the ``.tiff`` files (``jaffedbase/``), their class folders, or a parent.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    folder = find_layout(root, NAME, _has_jaffe_files, LAYOUT)
    excluded, unused, copies = [], [], {}  # unused: files that are not JAFFE images (never an error, even strict)
    for path in visible_files(folder):
        if not is_image_file(path):
            unused.append({"path": str(path), "label": None, "reason": "not an image"})
            continue
        match = PATTERN.match(path.stem)
        if match is None:
            excluded.append({"path": str(path), "label": None, "reason": "file name not like KA.AN1.39.tiff"})
            continue
        label = lookup_label(JAFFE_CODES, match["code"].upper(), NAME, path)
        folder_class = class_of_folder(path.parent.name) if path.parent != folder else None
        if folder_class is not None and folder_class != label:
            excluded.append({"path": str(path), "label": label,
                             "reason": f"class folder {path.parent.name!r} contradicts the file-name code {match['code']}"})
            continue
        key = (match["subject"].upper(), match["code"].upper(), int(match["repeat"]), int(match["number"]))
        copies.setdefault(key, []).append((path, label))
    rows = []
    for (subject, _, repeat, number), found in copies.items():
        found.sort(key=lambda item: _preference(item[0]))
        (path, label), others = found[0], found[1:]
        unused.extend({"path": str(p), "label": lab, "reason": f"duplicate of {path}"} for p, lab in others)
        rows.append({"path": str(path), "label": label, "subject": subject, "repeat": repeat, "number": number})
    result = screen_files(rows, NAME, strict=strict, check=check, excluded=excluded)
    notes = pd.DataFrame(unused, columns=list(EXCLUDED_COLUMNS))
    return DatasetTable(result.table, pd.concat([result.excluded, notes], ignore_index=True) if unused else result.excluded)
