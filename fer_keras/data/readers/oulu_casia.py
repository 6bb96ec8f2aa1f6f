"""Oulu-CASIA NIR&VIS reader: ``OriginalImg/VL/Strong/P001/Anger/000.jpeg`` image sequences.

One sequence per subject and expression (6 classes, no neutral), frames sorted by file
name, onset first. ``modality`` (``VL`` visible / ``NI`` near-infrared) and
``illumination`` (``Strong``/``Dark``/``Weak``) pick the sub-tree; ``last_n`` keeps the
last frames of each sequence (default: every frame, as the attention paper's 10,379 VL
Strong images). Columns ``subject`` (``P001``), ``sequence`` (``P001/Anger``), ``frame``
(position in the sequence, from 1), ``modality``, ``illumination``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fer_keras.data.readers.helpers import (
    find_layout,
    list_images,
    lookup_label,
    natural_key,
    screen_files,
    subfolders,
)
from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import OULU_FOLDERS

NAME = "oulu_casia"
TOP = "OriginalImg"
MODALITIES = ("VL", "NI")
ILLUMINATIONS = ("Strong", "Dark", "Weak")
FOLDERS = {name.lower(): label for name, label in OULU_FOLDERS.items()}

log = logging.getLogger(__name__)


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    for name in allowed:
        if str(value).lower() == name.lower():
            return name
    raise DatasetError(f"{NAME}: unknown {option} {value!r}; use one of {', '.join(allowed)}")


def _child(folder: Path, name: str) -> Path | None:
    """``folder/name`` matched case-insensitively, or ``None``."""
    exact = folder / name
    if exact.is_dir():
        return exact
    return next((p for p in subfolders(folder) if p.name.lower() == name.lower()), None)


@register_reader(NAME)
def read_oulu_casia(
    root,
    *,
    modality: str = "VL",
    illumination: str = "Strong",
    last_n: int | None = None,
    strict: bool = False,
    check: str = "header",
) -> DatasetTable:
    """Read Oulu-CASIA from ``root`` (the folder holding ``OriginalImg``, or ``OriginalImg`` itself).

    Args:
        root: the dataset folder, ``OriginalImg`` itself, or a folder above them.
        modality: ``VL`` (visible light) or ``NI`` (near infrared).
        illumination: ``Strong``, ``Dark`` or ``Weak``.
        last_n: frames kept at the end of each sequence (the apex); ``None`` keeps all.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    modality = _choice(modality, MODALITIES, "modality")
    illumination = _choice(illumination, ILLUMINATIONS, "illumination")
    if last_n is not None and (not isinstance(last_n, int) or last_n < 1):
        raise DatasetError(f"{NAME}: last_n must be a positive integer, got {last_n!r}")
    subtree = f"{TOP}/{modality}/{illumination}"

    def holds_subtree(folder: Path) -> bool:
        top = folder if folder.name.lower() == TOP.lower() else _child(folder, TOP)
        return top is not None and _child(top, modality) is not None

    layout = f"{subtree}/P001/Anger/000.jpeg"
    folder = find_layout(root, NAME, holds_subtree, layout)
    top = folder if folder.name.lower() == TOP.lower() else _child(folder, TOP)
    sequences_root = _child(_child(top, modality), illumination)
    if sequences_root is None:
        raise DatasetError(f"{NAME}: expected {layout} in {top}; found no {modality}/{illumination} folder")
    rows, empty = [], 0
    for subject_folder in subfolders(sequences_root):
        for class_folder in subfolders(subject_folder):
            label = lookup_label(FOLDERS, class_folder.name.lower(), NAME, class_folder)
            frames = sorted(list_images(class_folder), key=natural_key)
            if not frames:
                empty += 1
                continue
            first = 0 if last_n is None else max(0, len(frames) - last_n)
            for position in range(first, len(frames)):
                rows.append(
                    {
                        "path": str(frames[position]),
                        "label": label,
                        "subject": subject_folder.name,
                        "sequence": f"{subject_folder.name}/{class_folder.name}",
                        "frame": position + 1,
                        "modality": modality,
                        "illumination": illumination,
                    }
                )
    if empty:
        log.info("%s: skipped %d empty sequence folders", NAME, empty)
    return screen_files(rows, NAME, strict=strict, check=check)
