"""JAFFE reader on a fixture in the real flat ``KA.AN1.39.tiff`` layout."""

from __future__ import annotations

import pytest

from fer_keras.data.jaffe import read_jaffe
from fer_keras.data.registry import DatasetError, read_dataset
from fer_keras.labels import CLASSES_7
from tests.data.fixtures import corrupt, face, make_jaffe, write_image


def test_reads_every_file_with_label_subject_and_numbers(tmp_path):
    folder = make_jaffe(tmp_path, subjects=3, repeats=2)
    result = read_jaffe(folder)
    table = result.table
    assert len(table) == 3 * 7 * 2 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == {c: 6 for c in CLASSES_7}
    assert sorted(table["subject"].unique()) == ["KA", "KL", "KM"]
    assert set(table["dataset"]) == {"jaffe"} and set(table["repeat"]) == {1, 2}
    row = table[table["path"].str.endswith("KA.SU2.12.tiff")].iloc[0]
    assert (row["label"], row["subject"], row["repeat"], row["number"]) == ("surprise", "KA", 2, 12)


def test_root_may_be_the_parent_and_tif_is_accepted(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    (folder / "KA.HA1.4.tiff").rename(folder / "KA.HA1.4.tif")
    table = read_jaffe(tmp_path).table
    assert len(table) == 7 and table["path"].str.endswith(".tif").sum() == 1


@pytest.mark.parametrize("kind", ["empty", "truncated", "garbage"])
def test_corrupt_file_is_excluded_or_raises_in_strict(tmp_path, kind):
    folder = make_jaffe(tmp_path, subjects=1)
    broken = corrupt(folder / "KA.FE1.3.tiff", kind)
    result = read_jaffe(folder)
    assert len(result.table) == 6 and "fear" not in set(result.table["label"])
    assert result.excluded["path"].tolist() == [str(broken)]
    assert result.excluded["label"].tolist() == ["fear"] and result.excluded["reason"].iloc[0]
    with pytest.raises(DatasetError, match=r"KA\.FE1\.3\.tiff"):
        read_jaffe(folder, strict=True)


def test_oddly_named_image_is_excluded_with_reason(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    write_image(folder / "photo.tiff", face(0, "anger"))
    result = read_jaffe(folder)
    assert len(result.table) == 7
    assert result.excluded["reason"].tolist() == ["file name not like KA.AN1.39.tiff"]


def test_unknown_code_raises_one_line_naming_the_file(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    write_image(folder / "KA.XX1.99.tiff", face(0, "anger"))
    with pytest.raises(DatasetError, match=r"jaffe: unknown emotion code 'XX' in .*KA\.XX1\.99\.tiff") as raised:
        read_jaffe(folder)
    assert "\n" not in str(raised.value)


def test_wrong_root_names_the_expected_layout(tmp_path):
    (tmp_path / "cats").mkdir()
    write_image(tmp_path / "cats" / "tom.png", face(0, "anger"))
    message = r"^jaffe: expected a flat folder of files like KA\.AN1\.39\.tiff in .*; found none$"
    with pytest.raises(DatasetError, match=message):
        read_jaffe(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("jaffe", str(make_jaffe(tmp_path, subjects=1))).table) == 7
