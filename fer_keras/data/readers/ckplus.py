"""CK+ (Extended Cohn-Kanade) reader: the original release or the ``CK+48/<class>/`` folder cut.

Original layout (detected when ``root`` or a folder below it holds both)::

    cohn-kanade-images/S005/001/S005_001_00000011.png
    Emotion/S005/001/S005_001_00000011_emotion.txt      # "   3.0000000e+00"

Only sequences with an emotion file are labelled; the others are skipped (counted in a
log message, not excluded). By default each labelled sequence gives its last (peak) frame
(327 images); ``last_n=3`` takes the last three frames, and
``include_neutral_first_frame=True`` adds each sequence's first frame as ``neutral``.

CK+48 layout: ``<class>/S010_004_00000017.png`` with class folders as in
:data:`fer_keras.labels.CKPLUS48_FOLDERS` (usually the last 3 frames of each sequence;
all files are kept unless ``last_n`` is given).

Both: contempt becomes disgust unless ``keep_contempt=True`` (8 classes). Columns
``subject`` (``S005``), ``sequence`` (``001``), ``frame`` (11).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fer_keras.data.readers.helpers import find_layout, list_images, lookup_label, screen_files, subfolders
from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import CKPLUS48_FOLDERS, CKPLUS_INDICES, NEUTRAL, merge_contempt

NAME = "ckplus"
IMAGES_FOLDER = "cohn-kanade-images"
EMOTION_FOLDER = "Emotion"
FRAME_NAME = re.compile(r"^(?P<subject>S\d+)_(?P<sequence>\d+)_(?P<frame>\d+)$")
LAYOUT = (
    "cohn-kanade-images/S005/001/*.png with Emotion/S005/001/*_emotion.txt, "
    "or CK+48 class folders like anger/S010_004_00000017.png"
)

log = logging.getLogger(__name__)


def _is_original(folder: Path) -> bool:
    return (folder / IMAGES_FOLDER).is_dir()


def _is_ck48(folder: Path) -> bool:
    return any(child.name.lower() in CKPLUS48_FOLDERS for child in subfolders(folder))


@register_reader(NAME)
def read_ckplus(
    root,
    *,
    last_n: int | None = None,
    include_neutral_first_frame: bool = False,
    keep_contempt: bool = False,
    strict: bool = False,
    check: str = "header",
) -> DatasetTable:
    """Read CK+ from ``root`` (original release or CK+48 folders; detected automatically).

    Args:
        root: folder holding ``cohn-kanade-images`` and ``Emotion`` (or one above it), or
            the ``CK+48`` folder.
        last_n: frames per labelled sequence, counted back from the peak; default 1 for the
            original layout, every file for CK+48.
        include_neutral_first_frame: add each labelled sequence's first frame as neutral
            (original layout only).
        keep_contempt: keep contempt as an 8th class instead of merging it into disgust.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    if last_n is not None and (not isinstance(last_n, int) or last_n < 1):
        raise DatasetError(f"{NAME}: last_n must be a positive integer, got {last_n!r}")
    folder = find_layout(root, NAME, lambda f: _is_original(f) or _is_ck48(f), LAYOUT)
    if _is_original(folder):
        rows, excluded = _read_original(folder, root, last_n or 1, include_neutral_first_frame)
    else:
        if include_neutral_first_frame:
            raise DatasetError(f"{NAME}: include_neutral_first_frame needs the original CK+ layout; {folder} is CK+48")
        rows, excluded = _read_ck48(folder, last_n)
    for row in rows:
        if not keep_contempt:
            row["label"] = merge_contempt(row["label"])
    return screen_files(rows, NAME, strict=strict, check=check, excluded=excluded)


def _frame_fields(path: Path, position: int) -> dict:
    match = FRAME_NAME.match(path.stem)
    if match is None:
        return {"frame": position + 1}
    return {"frame": int(match["frame"])}


def _emotion_label(label_file: Path) -> str:
    text = label_file.read_text(errors="replace").strip()
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{NAME}: {label_file} should hold one number 0-7, found {text[:40]!r}") from None
    code = int(value) if value.is_integer() else value
    return lookup_label(CKPLUS_INDICES, code, NAME, label_file)


def _read_original(folder: Path, root, last_n: int, neutral_first: bool) -> tuple[list[dict], list[dict]]:
    images_root = folder / IMAGES_FOLDER
    emotion_parent = find_layout(
        root, NAME, lambda f: (f / EMOTION_FOLDER).is_dir(), f"an {EMOTION_FOLDER} folder with *_emotion.txt labels"
    )
    emotion_root = emotion_parent / EMOTION_FOLDER
    rows, excluded, unlabelled = [], [], 0
    for subject_folder in subfolders(images_root):
        for sequence_folder in subfolders(subject_folder):
            label_files = sorted((emotion_root / subject_folder.name / sequence_folder.name).glob("*_emotion.txt"))
            if not label_files:
                unlabelled += 1
                continue
            label = _emotion_label(label_files[0])
            frames = list_images(sequence_folder)
            if not frames:
                reason = "labelled sequence has no frames"
                excluded.append({"path": str(sequence_folder), "label": label, "reason": reason})
                continue
            base = {"subject": subject_folder.name, "sequence": sequence_folder.name}
            chosen = list(range(max(0, len(frames) - last_n), len(frames)))
            if neutral_first and 0 not in chosen:
                chosen.insert(0, 0)
            for position in chosen:
                path = frames[position]
                frame_label = NEUTRAL if neutral_first and position == 0 and len(frames) > last_n else label
                rows.append({"path": str(path), "label": frame_label, **base, **_frame_fields(path, position)})
    if unlabelled:
        log.info("%s: skipped %d sequences without an emotion file (unlabelled in CK+)", NAME, unlabelled)
    return rows, excluded


def _read_ck48(folder: Path, last_n: int | None) -> tuple[list[dict], list[dict]]:
    rows, excluded = [], []
    for class_folder in subfolders(folder):
        label = lookup_label(CKPLUS48_FOLDERS, class_folder.name.lower(), NAME, class_folder)
        files = list_images(class_folder)
        if not files:
            raise DatasetError(f"{NAME}: class folder {class_folder} has no images")
        for path in files:
            match = FRAME_NAME.match(path.stem)
            if match is None:
                reason = "file name not like S010_004_00000017.png"
                excluded.append({"path": str(path), "label": label, "reason": reason})
                continue
            rows.append(
                {
                    "path": str(path),
                    "label": label,
                    "subject": match["subject"],
                    "sequence": match["sequence"],
                    "frame": int(match["frame"]),
                }
            )
    if last_n is not None:
        rows = _last_frames(rows, last_n)
    return rows, excluded


def _last_frames(rows: list[dict], last_n: int) -> list[dict]:
    """Keep the ``last_n`` highest frame numbers of each (subject, sequence, label)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["subject"], row["sequence"], row["label"]), []).append(row)
    return [row for group in groups.values() for row in sorted(group, key=lambda r: r["frame"])[-last_n:]]
