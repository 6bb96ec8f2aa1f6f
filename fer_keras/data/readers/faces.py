"""FACES (MPI Berlin lifespan database) reader: files named ``004_o_m_a_a.jpg``.

Fields: person id, age group (y/m/o → young/middle/old), gender (m/f → male/female),
emotion (a d f h n s: anger, disgust, fear, happiness, neutral, sadness — no surprise),
picture set (a/b). 2,052 images of 171 people, 6 classes. The folder may be flat or
nested. Columns ``subject`` (``004``), ``age_group``, ``gender``, ``picture_set``.

(This module reads the FACES *database*; :mod:`fer_keras.data.faces.detect` finds faces in images.)
"""

from __future__ import annotations

import re
from pathlib import Path

from fer_keras.data.readers.helpers import find_layout, list_images, lookup_label, screen_files
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import FACES_CODES

NAME = "faces"
PATTERN = re.compile(
    r"^(?P<subject>\d+)_(?P<age>[ymo])_(?P<gender>[mf])_(?P<code>[a-z]+)_(?P<set>[ab])$", re.IGNORECASE
)
AGE_GROUPS = {"y": "young", "m": "middle", "o": "old"}
GENDERS = {"m": "male", "f": "female"}
LAYOUT = "image files named like 004_o_m_a_a.jpg"


def _has_faces_files(folder: Path) -> bool:
    return any(PATTERN.match(p.stem) for p in list_images(folder, recursive=True))


@register_reader(NAME)
def read_faces(root, *, strict: bool = False, check: str = "header") -> DatasetTable:
    """Read FACES from ``root`` (any folder whose tree holds the ``004_o_m_a_a.jpg`` files).

    Args:
        root: the FACES folder (flat or nested).
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    folder = find_layout(root, NAME, _has_faces_files, LAYOUT)
    rows, excluded = [], []
    for path in list_images(folder, recursive=True):
        match = PATTERN.match(path.stem)
        if match is None:
            excluded.append({"path": str(path), "label": None, "reason": "file name not like 004_o_m_a_a.jpg"})
            continue
        rows.append(
            {
                "path": str(path),
                "label": lookup_label(FACES_CODES, match["code"].lower(), NAME, path),
                "subject": match["subject"],
                "age_group": AGE_GROUPS[match["age"].lower()],
                "gender": GENDERS[match["gender"].lower()],
                "picture_set": match["set"].lower(),
            }
        )
    return screen_files(rows, NAME, strict=strict, check=check, excluded=excluded)
