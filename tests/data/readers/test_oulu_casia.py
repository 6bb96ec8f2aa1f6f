"""Oulu-CASIA reader on a fixture in the real ``OriginalImg/VL/Strong/P001/Anger/000.jpeg`` layout."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.oulu_casia import read_oulu_casia
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from fer_keras.labels import CLASSES_6
from tests.data.fixtures import corrupt, face, make_oulu, write_image


def test_reads_every_frame_by_default(tmp_path):
    root = make_oulu(tmp_path, subjects=2, frames=4)
    result = read_oulu_casia(root)
    table = result.table
    assert len(table) == 2 * 6 * 4 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == {c: 8 for c in CLASSES_6}
    assert sorted(table["subject"].unique()) == ["P001", "P002"]
    assert table["sequence"].nunique() == 12 and set(table["frame"]) == {1, 2, 3, 4}
    assert set(table["modality"]) == {"VL"} and set(table["illumination"]) == {"Strong"}


def test_last_n_keeps_the_end_of_each_sequence_in_name_order(tmp_path):
    root = make_oulu(tmp_path, subjects=1, frames=12)
    table = read_oulu_casia(root, last_n=3).table
    assert len(table) == 6 * 3 and set(table["frame"]) == {10, 11, 12}
    assert set(table["path"].str.rsplit("/", n=1).str[-1]) == {"009.jpeg", "010.jpeg", "011.jpeg"}


def test_modality_and_illumination_pick_the_subtree(tmp_path):
    root = make_oulu(tmp_path, subjects=1, frames=2, modalities=("VL", "NI"), illuminations=("Strong", "Dark"))
    table = read_oulu_casia(root, modality="NI", illumination="dark").table
    assert len(table) == 12 and set(table["modality"]) == {"NI"} and set(table["illumination"]) == {"Dark"}
    assert table["path"].str.contains("/OriginalImg/NI/Dark/").all()
    with pytest.raises(DatasetError, match="found no VL/Weak folder"):
        read_oulu_casia(root, illumination="Weak")
    with pytest.raises(DatasetError, match="unknown modality 'IR'; use one of VL, NI"):
        read_oulu_casia(root, modality="IR")


def test_root_may_be_originalimg_itself_or_above(tmp_path):
    root = make_oulu(tmp_path, subjects=1, frames=1)
    assert len(read_oulu_casia(root / "OriginalImg").table) == 6
    assert len(read_oulu_casia(tmp_path).table) == 6


def test_corrupt_frame_is_excluded_or_raises_in_strict(tmp_path):
    root = make_oulu(tmp_path, subjects=1, frames=2)
    broken = corrupt(root / "OriginalImg/VL/Strong/P001/Fear/001.jpeg", "empty")
    result = read_oulu_casia(root)
    assert len(result.table) == 11
    assert result.excluded.to_dict("records") == [{"path": str(broken), "label": "fear", "reason": "empty file"}]
    with pytest.raises(DatasetError, match=r"Fear/001\.jpeg: empty file \(strict mode\)"):
        read_oulu_casia(root, strict=True)


def test_unknown_class_folder_raises_one_line(tmp_path):
    root = make_oulu(tmp_path, subjects=1, frames=1)
    write_image(root / "OriginalImg/VL/Strong/P001/Contempt/000.jpeg", face(0, "anger", "rgb"))
    with pytest.raises(DatasetError, match=r"^oulu_casia: unknown emotion code 'contempt' in .*Contempt"):
        read_oulu_casia(root)


def test_wrong_root_names_the_layout(tmp_path):
    write_image(tmp_path / "P001" / "Anger" / "000.jpeg", face(0, "anger", "rgb"))
    with pytest.raises(DatasetError, match=r"^oulu_casia: expected OriginalImg/VL/Strong/P001/Anger/000\.jpeg in "):
        read_oulu_casia(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("oulu_casia", make_oulu(tmp_path, subjects=1, frames=1)).table) == 6
