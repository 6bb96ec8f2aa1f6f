"""Generic ``root/<class>/*`` reader: aliases, label maps, subject patterns, errors."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.folder import class_name, read_folder
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from tests.data.fixtures import corrupt, make_ckplus48, make_class_folders


def test_aliases_map_case_insensitively_and_others_stay_custom(tmp_path):
    root = make_class_folders(tmp_path, {"Happy": 2, "ANGRY": 1, "fearful": 1, "bored": 2})
    result = read_folder(root)
    table = result.table
    assert table["label"].value_counts().to_dict() == {"happiness": 2, "bored": 2, "anger": 1, "fear": 1}
    assert result.excluded.empty and table["subject"].is_unique
    assert set(table["subject"]) >= {"Happy/happy_0", "bored/bored_1"}
    assert [class_name(n) for n in ("sad", "Surprised", "disgusted", "Neutral")] == [
        "sadness", "surprise", "disgust", "neutral"
    ]


def test_label_map_wins_and_unknown_map_keys_are_errors(tmp_path):
    root = make_class_folders(tmp_path, {"0": 1, "1": 2, "happy": 1})
    table = read_folder(root, label_map={"0": "Angry", "1": "calm"}).table
    assert table["label"].value_counts().to_dict() == {"calm": 2, "anger": 1, "happiness": 1}
    with pytest.raises(DatasetError, match=r"label_map names folder\(s\) '7' not found in"):
        read_folder(root, label_map={"7": "fear"})


def test_subject_pattern_groups_images_by_person(tmp_path):
    root = make_ckplus48(tmp_path, {"anger": 2, "happy": 1})
    table = read_folder(root, subject_pattern=r"^(S\d+)_").table
    assert table["subject"].value_counts().to_dict() == {"S010": 3, "S011": 3, "S012": 3}
    named = read_folder(root, subject_pattern=r"_(?P<seq>\d{3})_|^(?P<subject>S\d+)").table
    assert set(named["subject"]) == {"S010", "S011", "S012"}
    # every file excluded: the emptied class stops the read (it would silently train without the class)
    with pytest.raises(DatasetError, match=r"class 'anger' has no usable image left: all 6 of its files were "
                                           r"excluded \(first: file name does not match subject_pattern"):
        read_folder(root, subject_pattern=r"^P\d+")
    with pytest.raises(DatasetError, match="subject_pattern '\\(' is not a valid regex"):
        read_folder(root, subject_pattern="(")


def test_corrupt_file_is_excluded_or_raises_in_strict(tmp_path):
    root = make_class_folders(tmp_path, {"happy": 2}, ext=".jpg")
    broken = corrupt(root / "happy" / "happy_1.jpg", "truncated")
    result = read_folder(root)
    assert len(result.table) == 1
    assert result.excluded.to_dict("records") == [
        {"path": str(broken), "label": "happiness", "reason": "truncated (no JPEG end marker)"}
    ]
    with pytest.raises(DatasetError, match="happy_1.jpg: truncated"):
        read_folder(root, strict=True)


def test_empty_class_and_bad_roots_are_named(tmp_path):
    root = make_class_folders(tmp_path, {"happy": 1})
    (root / "sad").mkdir()
    with pytest.raises(DatasetError, match=r"^folder: class folder .*sad has no images$"):
        read_folder(root)
    with pytest.raises(DatasetError, match="expected class sub-folders like happy/\\*.png in .*; found none"):
        read_folder(root / "happy")
    with pytest.raises(DatasetError, match="is not a folder"):
        read_folder(tmp_path / "missing")
    with pytest.raises(DatasetError, match="no root given"):
        read_folder(None)


def test_registered_under_its_name(tmp_path):
    root = make_class_folders(tmp_path, {"sad": 1})
    assert read_dataset("folder", root).table["label"].tolist() == ["sadness"]


@pytest.mark.real_data
def test_real_ck48_as_plain_folders(ckplus48_root):
    table = read_folder(ckplus48_root, subject_pattern=r"^(S\d+)_").table
    assert len(table) == 981 and table["subject"].nunique() == 118
    assert table["label"].value_counts()["contempt"] == 54


def test_a_symlink_loop_is_not_read_as_a_class(tmp_path):
    root = make_class_folders(tmp_path)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "up").symlink_to(root.parent, target_is_directory=True)
    table = read_folder(root).table
    assert len(table) == 5 and set(table["label"]) == {"happiness", "anger", "sadness"}
