"""FER2013 reader: the Kaggle ``fer2013.csv`` or the image-folder variant ``train/<class>/*.png`` (or ``.jpg``).

CSV (``emotion,pixels,Usage``): pixels are decoded at read time into the ``image`` column
(48×48×1 uint8; ``path`` is empty) and ``Usage`` becomes ``usage``: Training → ``train``,
PublicTest → ``val``, PrivateTest → ``test`` (the official split; 28,709/3,589/3,589).
A row with malformed pixels is excluded (path ``<csv> row <n>``) with a reason.

Image folders (``train/angry/…``, ``test/…``, class names as in
:data:`fer_keras.labels.FER2013_FOLDERS`): ``usage`` comes from the file-name prefix when
there is one (``Training_…`` → ``train``, ``PublicTest_…`` → ``val``, ``PrivateTest_…`` →
``test``: the common Kaggle image-folder copy keeps the official split only there, with
PublicTest and PrivateTest mixed in ``test/``), else from the split folder name. A prefix
that contradicts its folder (``PublicTest_`` under ``train/``) stops with one line; a tree
where some files carry prefixes and others in the same split folder do not is refused too
(the split would be half official). Files are checked, not decoded.

FER2013 has no subject ids: every image is its own ``subject`` (``row-00042`` for the CSV,
``train/angry/im0`` for folders), so "subject-independent" splits are plain splits here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.data.image_io import is_image_file
from fer_keras.data.readers.helpers import (
    find_layout,
    list_images,
    lookup_label,
    make_table,
    screen_files,
    subfolders,
    visible_files,
)
from fer_keras.errors import DatasetError
from fer_keras.data.registry import EXCLUDED_COLUMNS, DatasetTable, register_reader
from fer_keras.labels import FER2013_FOLDERS, FER2013_INDICES

NAME = "fer2013"
CSV_NAME = "fer2013.csv"
IMAGE_SHAPE = (48, 48, 1)
#: ``Usage`` column → ``usage``.
USAGES = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
#: Split folder names of the image-folder variant (lower case) → ``usage``.
SPLIT_FOLDERS = {
    "train": "train",
    "training": "train",
    "val": "val",
    "validation": "val",
    "publictest": "val",
    "test": "test",
    "privatetest": "test",
}
#: File-name prefix of the image-folder variant (lower case) → ``usage``.
PREFIXES = {"training": "train", "publictest": "val", "privatetest": "test"}
PREFIX = re.compile(r"^(?P<usage>training|publictest|privatetest)[_-]", re.IGNORECASE)
#: Which prefixed usages each split folder may hold (``test/`` holds both public and private).
FOLDER_ALLOWS = {"train": {"train"}, "val": {"val"}, "test": {"val", "test"}}
LAYOUT = "fer2013.csv (emotion,pixels,Usage) or train/<class>/ and test/<class>/ folders of .png or .jpg files"


def _split_folders(folder: Path) -> list[Path]:
    return [p for p in subfolders(folder) if p.name.lower() in SPLIT_FOLDERS]


def _is_fer_folder(folder: Path) -> bool:
    if (folder / CSV_NAME).is_file():
        return True
    return any(
        child.name.lower() in FER2013_FOLDERS for split in _split_folders(folder) for child in subfolders(split)
    )


@register_reader(NAME)
def read_fer2013(root, *, strict: bool = False, check: str = "header") -> DatasetTable:
    """Read FER2013 from ``root``: the CSV file, a folder holding it, or the image-folder tree.

    Args:
        root: ``fer2013.csv``, a folder containing it (or ``fer2013/fer2013.csv``), or the
            folder with ``train/`` and ``test/``.
        strict: raise on the first malformed row or unusable file instead of excluding it.
        check: file check for the folder variant: ``header`` / ``decode`` / ``none``.
    """
    if root is not None and Path(root).is_file():
        return read_csv(Path(root), strict=strict)
    folder = find_layout(root, NAME, _is_fer_folder, LAYOUT)
    if (folder / CSV_NAME).is_file():
        return read_csv(folder / CSV_NAME, strict=strict)
    return read_folders(folder, strict=strict, check=check)


def parse_pixels(text: str, shape: tuple[int, ...]) -> np.ndarray:
    """Space-separated 0..255 integers (FER2013's ``pixels``) → uint8 array of ``shape``.

    Raises ``ValueError`` with a short reason when the text is not exactly that many bytes.
    """
    expected = int(np.prod(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(str(text), dtype=np.int64, sep=" ")
        except (ValueError, DeprecationWarning):
            raise ValueError("pixels: not a list of integers") from None
    if values.size != expected:
        raise ValueError(f"pixels: expected {expected} values, found {values.size}")
    if values.min() < 0 or values.max() > 255:
        raise ValueError("pixels: values outside 0..255")
    return values.astype(np.uint8).reshape(shape)


def read_csv(csv: Path, strict: bool = False) -> DatasetTable:
    """``fer2013.csv`` → table with the pixels decoded into ``image``."""
    try:
        frame = pd.read_csv(csv, dtype={"pixels": str, "Usage": str})
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DatasetError(f"{NAME}: cannot read {csv} as CSV ({type(error).__name__}); expected {LAYOUT}") from None
    missing = [c for c in ("emotion", "pixels") if c not in frame.columns]
    if missing:
        raise DatasetError(f"{NAME}: {csv} has no {', '.join(missing)} column; expected columns emotion, pixels, Usage")
    has_usage = "Usage" in frame.columns
    rows, excluded = [], []
    for number, record in enumerate(frame.itertuples(index=False)):
        where = f"{csv} row {number + 1}"
        label = lookup_label(FER2013_INDICES, _emotion_code(record.emotion), NAME, where)
        try:
            image = parse_pixels(record.pixels, IMAGE_SHAPE)
        except ValueError as error:
            if strict:
                raise DatasetError(f"{NAME}: {where}: {error} (strict mode)") from None
            excluded.append({"path": where, "label": label, "reason": str(error)})
            continue
        row = {"path": None, "image": image, "label": label, "subject": f"row-{number + 1:05d}", "row": number + 1}
        if has_usage:
            if record.Usage not in USAGES:
                raise DatasetError(f"{NAME}: unknown Usage {record.Usage!r} in {where}; known: {', '.join(USAGES)}")
            row["usage"] = USAGES[record.Usage]
        rows.append(row)
    return make_table(rows, NAME, excluded)


def _emotion_code(value):
    """The ``emotion`` cell as an int when it is one (``3``, ``3.0``), else unchanged for the error."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else value


def read_folders(folder: Path, strict: bool = False, check: str = "header") -> DatasetTable:
    """``train/<class>/*`` and ``test/<class>/*`` → table with ``usage`` from the file prefix or split folder."""
    rows, unused = [], []
    for split in _split_folders(folder):
        folder_usage = SPLIT_FOLDERS[split.name.lower()]
        prefixed = unprefixed = None
        for class_folder in subfolders(split):
            label = lookup_label(FER2013_FOLDERS, class_folder.name.lower(), NAME, class_folder)
            files = list_images(class_folder, recursive=True)
            if not files:
                raise DatasetError(f"{NAME}: class folder {class_folder} has no images")
            unused += [{"path": str(p), "label": label, "reason": "not an image"}
                       for p in visible_files(class_folder) if not is_image_file(p)]
            for path in files:
                usage = _prefix_usage(path)
                if usage is None:
                    unprefixed = unprefixed or path
                    usage = folder_usage
                else:
                    prefixed = prefixed or path
                    if usage not in FOLDER_ALLOWS[folder_usage]:
                        raise DatasetError(f"{NAME}: {path} is named as {usage} data but lies in {split.name}/; "
                                           "the file-name prefix and the split folder disagree")
                subject = path.relative_to(folder).with_suffix("").as_posix()
                rows.append({"path": str(path), "label": label, "subject": subject, "usage": usage})
        if prefixed is not None and unprefixed is not None:
            raise DatasetError(f"{NAME}: {split} mixes files named by split ({prefixed.name}) with files that are not "
                               f"({unprefixed.name}); the official split cannot be told apart, keep one naming")
    result = screen_files(rows, NAME, strict=strict, check=check)
    if unused:  # counted, never an error (a README or thumbs.db beside the images)
        notes = pd.DataFrame(unused, columns=list(EXCLUDED_COLUMNS))
        result = DatasetTable(result.table, pd.concat([result.excluded, notes], ignore_index=True))
    return result


def _prefix_usage(path: Path) -> str | None:
    """``train``/``val``/``test`` from a ``Training_``/``PublicTest_``/``PrivateTest_`` file name, else None."""
    match = PREFIX.match(path.name)
    return PREFIXES[match["usage"].lower()] if match else None
