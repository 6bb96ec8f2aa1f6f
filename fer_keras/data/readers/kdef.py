"""KDEF reader: ``KDEF/AF01/AF01AFS.JPG`` — session, gender, id, expression, angle in the file name.

The file name carries everything, so the folders around it do not matter: the publisher's person
folders (``AF01/``), one flat folder of the images (a common redistribution, often with lower-case
``.jpg``), class folders, or any nesting of these read alike.

``A F 01 AF S``: session A/B, gender F/M, person 01–35, expression AF AN DI HA NE SA SU,
angle FL HL S HR FR (``S`` is one letter, the others two: ``AF01AFHL.JPG``). 4,900 images
of 70 people. Columns ``subject`` (``F01``: gender + id, shared by both sessions),
``session``, ``gender`` (female/male), ``angle`` (full_left … full_right, see
:data:`fer_keras.labels.KDEF_ANGLES`). ``angles=[...]`` keeps some angles (codes or names).
Real KDEF has a few broken or oddly named files: those are excluded with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from fer_keras.data.readers.helpers import find_layout, list_images, lookup_label, screen_files
from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import KDEF_ANGLES, KDEF_CODES

NAME = "kdef"
PATTERN = re.compile(
    r"^(?P<session>[AB])(?P<gender>[FM])(?P<id>\d{2})(?P<code>[A-Z]{2})(?P<angle>FL|FR|HL|HR|S)$", re.IGNORECASE
)
GENDERS = {"F": "female", "M": "male"}
LAYOUT = "KDEF images named like AF01AFS.JPG (in person folders like AF01/, class folders or one flat folder)"


def _is_kdef(folder: Path) -> bool:
    """Whether ``folder`` holds KDEF-named images itself or in its sub-folders (person or class folders)."""
    candidates = [folder] + [child for child in sorted(folder.iterdir()) if child.is_dir()]
    return any(PATTERN.match(p.stem) for candidate in candidates for p in list_images(candidate))


def angle_codes(angles) -> set[str]:
    """Angle codes or names (``S``, ``straight``, ``HL``, ``half_left``…) → the set of codes."""
    if isinstance(angles, str):
        angles = [angles]
    by_name = {name: code for code, name in KDEF_ANGLES.items()}
    codes = set()
    for angle in angles:
        key = str(angle)
        code = key.upper() if key.upper() in KDEF_ANGLES else by_name.get(key.lower())
        if code is None:
            known = ", ".join(f"{c}/{n}" for c, n in KDEF_ANGLES.items())
            raise DatasetError(f"{NAME}: unknown angle {angle!r}; known: {known}")
        codes.add(code)
    return codes


@register_reader(NAME)
def read_kdef(root, *, angles=None, strict: bool = False, check: str = "header") -> DatasetTable:
    """Read KDEF from ``root`` (the ``KDEF`` folder of person folders, or a folder above it).

    Args:
        root: folder holding ``AF01/``, ``AM01/`` … ``BM35/`` (or ``KDEF_and_AKDEF/``), or the
            images themselves (flat), or class folders of them.
        angles: angles to keep, as codes (``S``) or names (``straight``); default all five.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    wanted = angle_codes(angles) if angles is not None else set(KDEF_ANGLES)
    folder = find_layout(root, NAME, _is_kdef, LAYOUT)
    rows, excluded = [], []
    for path in list_images(folder, recursive=True):
        match = PATTERN.match(path.stem)
        if match is None:
            excluded.append({"path": str(path), "label": None, "reason": "file name not like AF01AFS.JPG"})
            continue
        angle = match["angle"].upper()
        if angle not in wanted:
            continue
        gender = match["gender"].upper()
        rows.append(
            {
                "path": str(path),
                "label": lookup_label(KDEF_CODES, match["code"].upper(), NAME, path),
                "subject": f"{gender}{match['id']}",
                "session": match["session"].upper(),
                "gender": GENDERS[gender],
                "angle": KDEF_ANGLES[angle],
            }
        )
    return screen_files(rows, NAME, strict=strict, check=check, excluded=excluded)
