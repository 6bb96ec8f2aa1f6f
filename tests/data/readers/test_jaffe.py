"""JAFFE reader on a fixture in the real flat ``KA.AN1.39.tiff`` layout."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.jaffe import read_jaffe
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from fer_keras.labels import CLASSES_7
from tests.data.fixtures import corrupt, face, make_jaffe, make_jaffe_class_folders, write_image


def test_reads_every_file_with_label_subject_and_numbers(tmp_path):
    folder = make_jaffe(tmp_path, subjects=3, repeats=2)
    result = read_jaffe(folder)
    table = result.table
    assert len(table) == 3 * 7 * 2
    assert result.excluded[["label", "reason"]].values.tolist() == [[None, "not an image"]]  # the README
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
    broken_rows = result.excluded[result.excluded["reason"] != "not an image"]  # the README is the other row
    assert broken_rows["path"].tolist() == [str(broken)]
    assert broken_rows["label"].tolist() == ["fear"] and broken_rows["reason"].iloc[0]
    with pytest.raises(DatasetError, match=r"KA\.FE1\.3\.tiff"):
        read_jaffe(folder, strict=True)


def test_oddly_named_image_is_excluded_with_reason(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    write_image(folder / "photo.tiff", face(0, "anger"))
    result = read_jaffe(folder)
    assert len(result.table) == 7
    assert sorted(result.excluded["reason"]) == ["file name not like KA.AN1.39.tiff", "not an image"]


def test_unknown_code_raises_one_line_naming_the_file(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    write_image(folder / "KA.XX1.99.tiff", face(0, "anger"))
    with pytest.raises(DatasetError, match=r"jaffe: unknown emotion code 'XX' in .*KA\.XX1\.99\.tiff") as raised:
        read_jaffe(folder)
    assert "\n" not in str(raised.value)


def test_wrong_root_names_the_expected_layout(tmp_path):
    (tmp_path / "cats").mkdir()
    write_image(tmp_path / "cats" / "tom.png", face(0, "anger"))
    message = r"^jaffe: expected files like KA\.AN1\.39\.tiff, in one folder or in class folders in .*; found none$"
    with pytest.raises(DatasetError, match=message):
        read_jaffe(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("jaffe", str(make_jaffe(tmp_path, subjects=1))).table) == 7


def test_class_folders_read_the_same_images_as_the_flat_release(tmp_path):
    # the real redistribution (Data/<n - Class>/*.tiff) used to give one class folder's images
    flat = read_jaffe(make_jaffe(tmp_path / "a", subjects=3)).table
    result = read_jaffe(make_jaffe_class_folders(tmp_path / "b", subjects=3))
    names = lambda t: sorted(t["path"].str.rsplit("/", n=1).str[-1])  # noqa: E731
    assert names(result.table) == names(flat) and len(result.table) == 21
    assert result.table.set_index(result.table["path"].str.rsplit("/", n=1).str[-1])["label"].sort_index().tolist() == \
        flat.set_index(flat["path"].str.rsplit("/", n=1).str[-1])["label"].sort_index().tolist()
    stray = result.excluded[result.excluded["path"].str.endswith(".jpg")]
    assert len(stray) == 1 and stray["reason"].iloc[0].startswith("duplicate of ") and stray["reason"].iloc[0].endswith(".tiff")


def test_flat_files_beside_a_nested_copy_are_read_once(tmp_path):
    folder = make_jaffe(tmp_path, subjects=1)
    copy = folder / "copy"
    copy.mkdir()
    for path in sorted(folder.glob("*.tiff")):
        (copy / path.with_suffix(".png").name).write_bytes(path.read_bytes())  # wrong extension: still a copy
    result = read_jaffe(folder)
    assert len(result.table) == 7 and result.table["path"].str.endswith(".tiff").all()
    assert (result.excluded["reason"].str.startswith("duplicate of")).sum() == 7


def test_class_folder_that_contradicts_the_code_is_excluded_with_reason(tmp_path):
    root = make_jaffe_class_folders(tmp_path, subjects=1)
    happy = next((root / "Data" / "1 - Happy").glob("*.tiff"))
    happy.rename(root / "Data" / "2 - Sad" / happy.name)
    result = read_jaffe(root)
    assert len(result.table) == 6
    assert result.excluded["reason"].str.contains("class folder '2 - Sad' contradicts the file-name code HA").sum() == 1


def test_strict_mode_does_not_fail_on_a_readme_or_a_duplicate(tmp_path):
    assert len(read_jaffe(make_jaffe_class_folders(tmp_path, subjects=1), strict=True).table) == 7
