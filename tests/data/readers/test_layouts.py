"""The readers' rule, reader by reader: the publisher's layout and the common redistributions.

Where file names carry the labels (JAFFE, KDEF, FACES) a reader takes them flat, in class
folders or nested, in any case of name and extension. Where only folders or label files carry
them (FER2013's image folders, CK+48, Oulu-CASIA) there is no flat layout to read, and the same
folders are read with the extension in any case. Each layout is built here as redistributions
ship it, from fixture helpers, and read to the same table as the publisher's layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_keras.data.readers.ckplus import read_ckplus
from fer_keras.data.readers.faces import read_faces
from fer_keras.data.readers.fer2013 import read_fer2013
from fer_keras.data.readers.jaffe import read_jaffe
from fer_keras.data.readers.kdef import read_kdef
from fer_keras.data.readers.oulu_casia import read_oulu_casia
from tests.data.fixtures import make_ckplus48, make_faces, make_fer2013_kaggle_folders, make_jaffe, make_kdef, make_oulu


def _counts(table) -> dict:
    return table["label"].value_counts().sort_index().to_dict()


def _rename_all(root: Path, rename) -> None:
    """Apply ``rename(path) -> new Path`` to every file below ``root`` (deepest first)."""
    for path in sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: -len(p.parts)):
        target = rename(path)
        if target != path:
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)


def _flatten_upper(root: Path) -> None:
    """Every file moved into ``root`` itself, name and extension upper-cased."""
    _rename_all(root, lambda p: root / p.name.upper())


def _into_class_folders(root: Path, table) -> None:
    """Every image moved into ``root/<label>/``, as label-folder redistributions ship them (other files stay)."""
    labels = {Path(path).name: label for path, label in zip(table["path"], table["label"])}
    _rename_all(root, lambda p: root / labels[p.name].title() / p.name if p.name in labels else p)


def _upper_suffix(root: Path) -> None:
    _rename_all(root, lambda p: p.with_suffix(p.suffix.upper()))


# --- file names carry the labels: flat, class folders, nested, any case -------------------------

def test_jaffe_flat_upper_case_and_class_folders(tmp_path):
    root = make_jaffe(tmp_path / "a")
    publisher = read_jaffe(root).table
    _flatten_upper(root)
    assert _counts(read_jaffe(root).table) == _counts(publisher)
    other = make_jaffe(tmp_path / "b")
    _into_class_folders(other, read_jaffe(other).table)
    assert _counts(read_jaffe(other).table) == _counts(publisher)


@pytest.mark.parametrize("layout", ["person", "flat", "class"])
def test_kdef_every_layout_reads_the_same_table(tmp_path, layout):
    publisher = read_kdef(make_kdef(tmp_path / "person", layout="person")).table
    table = read_kdef(make_kdef(tmp_path / layout, layout=layout)).table
    assert _counts(table) == _counts(publisher) and set(table["subject"]) == set(publisher["subject"])


def test_faces_flat_upper_case_class_folders_and_nested(tmp_path):
    root = make_faces(tmp_path / "a")
    publisher = read_faces(root).table
    _flatten_upper(root)
    assert _counts(read_faces(root).table) == _counts(publisher)
    other = make_faces(tmp_path / "b")
    _into_class_folders(other, read_faces(other).table)
    table = read_faces(other).table
    assert _counts(table) == _counts(publisher) and set(table["subject"]) == set(publisher["subject"])


# --- folders or label files carry the labels: the same folders, any case of extension -----------

def test_fer2013_image_folders_with_upper_case_extensions(tmp_path):
    root = make_fer2013_kaggle_folders(tmp_path)
    publisher = read_fer2013(root).table
    _upper_suffix(root)
    table = read_fer2013(root).table
    assert _counts(table) == _counts(publisher)
    assert table["usage"].value_counts().to_dict() == publisher["usage"].value_counts().to_dict()


def test_ckplus48_with_upper_case_extensions(tmp_path):
    root = make_ckplus48(tmp_path)
    publisher = read_ckplus(root).table
    _upper_suffix(root)
    assert _counts(read_ckplus(root).table) == _counts(publisher)


def test_oulu_casia_with_upper_case_extensions(tmp_path):
    root = make_oulu(tmp_path)
    publisher = read_oulu_casia(root).table
    _upper_suffix(root)
    assert _counts(read_oulu_casia(root).table) == _counts(publisher)
