"""The ``folder`` reader: any ``root/<class>/*`` tree, one sub-folder per class, images inside (nested allowed).

Class names: ``label_map`` ({folder name: class name}) wins; names are matched
case-insensitively to the canonical names and common aliases (happy → happiness,
angry → anger, sad → sadness, surprised → surprise, disgusted → disgust, fearful/afraid →
fear, contemptuous → contempt); anything else is kept as a custom class named like its
folder. ``subject`` comes from ``subject_pattern``, a regex searched in the file stem
(its ``subject`` group, else group 1, else the whole match); without one every image is
its own subject (``<class folder>/<stem>``), since nothing tells who is in the picture.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fer_keras.data.readers.helpers import list_images, screen_files, subfolders
from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import CLASSES_8

NAME = "folder"
ALIASES = {
    **{name: name for name in CLASSES_8},
    "happy": "happiness",
    "angry": "anger",
    "sad": "sadness",
    "surprised": "surprise",
    "disgusted": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "contemptuous": "contempt",
}


def class_name(folder_name: str, label_map: dict | None = None) -> str:
    """Class of a folder: ``label_map`` first; canonical names and aliases are normalised; else kept as is."""
    name = str(label_map[folder_name]) if label_map and folder_name in label_map else folder_name
    return ALIASES.get(name.lower(), name)


def _subject(stem: str, pattern: re.Pattern | None, fallback: str) -> str | None:
    if pattern is None:
        return fallback
    match = pattern.search(stem)
    if match is None:
        return None
    if "subject" in match.groupdict():
        return match["subject"]
    return match[1] if pattern.groups else match[0]


@register_reader(NAME)
def read_folder(
    root,
    *,
    label_map: dict | None = None,
    subject_pattern: str | None = None,
    strict: bool = False,
    check: str = "header",
) -> DatasetTable:
    """Read ``root/<class>/*`` with folder names mapped to classes.

    Args:
        root: the folder whose sub-folders are the classes.
        label_map: {folder name: class name}; unmapped folders use canonical names/aliases.
        subject_pattern: regex on the file stem giving the subject (e.g. ``^(S\\d+)_`` for
            CK+48 names); files it does not match are excluded.
        strict: raise on the first unusable file instead of excluding it.
        check: ``header`` / ``decode`` / ``none`` (see :mod:`fer_keras.data.image_io`).
    """
    if root is None:
        raise DatasetError(f"{NAME}: no root given; set data.root to a folder of class sub-folders")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{NAME}: root {root} is not a folder; expected class sub-folders like {root}/happy/*.png")
    try:
        pattern = re.compile(subject_pattern) if subject_pattern else None
    except re.error as error:
        raise DatasetError(f"{NAME}: subject_pattern {subject_pattern!r} is not a valid regex ({error})") from None
    class_folders = subfolders(root)
    if not class_folders:
        raise DatasetError(f"{NAME}: expected class sub-folders like happy/*.png in {root}; found none")
    unknown = sorted(set(label_map or {}) - {f.name for f in class_folders})
    if unknown:
        raise DatasetError(f"{NAME}: label_map names folder(s) {', '.join(map(repr, unknown))} not found in {root}")
    rows, excluded = [], []
    for class_folder in class_folders:
        label = class_name(class_folder.name, label_map)
        files = list_images(class_folder, recursive=True)
        excluded += [{"path": str(link), "label": label, "reason": "broken link (its target does not exist)"}
                     for link in sorted(class_folder.rglob("*")) if link.is_symlink() and not link.exists()]
        if not files:
            raise DatasetError(f"{NAME}: class folder {class_folder} has no images")
        for path in files:
            own = path.relative_to(root).with_suffix("").as_posix()
            subject = _subject(path.stem, pattern, own)
            if subject is None:
                reason = "file name does not match subject_pattern"
                excluded.append({"path": str(path), "label": label, "reason": reason})
                continue
            rows.append({"path": str(path), "label": label, "subject": subject})
    rows, conflicts = _without_conflicting_copies(rows, strict)
    result = screen_files(rows, NAME, strict=strict, check=check, excluded=excluded + conflicts)
    for label in sorted({class_name(f.name, label_map) for f in class_folders} - set(result.table["label"])):
        reasons = result.excluded[result.excluded["label"] == label]["reason"]
        why = f" (first: {reasons.iloc[0]}; all in excluded.csv)" if len(reasons) else ""
        raise DatasetError(f"{NAME}: class {label!r} has no usable image left: all {len(reasons)} of its files "
                           f"were excluded{why}")
    return result


def _without_conflicting_copies(rows: list[dict], strict: bool) -> tuple[list[dict], list[dict]]:
    """Rows minus byte-identical files filed under different classes (a label conflict), and their exclusions."""
    by_content: dict[str, list[dict]] = {}
    for row in rows:
        try:
            digest = hashlib.sha256(Path(row["path"]).read_bytes()).hexdigest()
        except OSError:
            continue  # unreadable: screen_files says so
        by_content.setdefault(digest, []).append(row)
    conflicting: dict[str, dict] = {}
    for copies in by_content.values():
        labels = sorted({copy["label"] for copy in copies})
        if len(labels) > 1:
            if strict:
                raise DatasetError(f"{NAME}: {copies[0]['path']} and {copies[1]['path']} are the same image filed "
                                   f"under classes {' and '.join(map(repr, labels))}")
            for copy in copies:
                other = next(c["path"] for c in copies if c is not copy)
                conflicting[copy["path"]] = {"path": copy["path"], "label": copy["label"],
                                             "reason": f"label conflict: the same image as {other} "
                                                       f"(classes {', '.join(labels)})"}
    return [row for row in rows if row["path"] not in conflicting], list(conflicting.values())
