"""CK+ reader: the original release layout and the CK+48 folders (fixtures and the real CK+48)."""

from __future__ import annotations

import logging

import pytest

from fer_keras.data.readers.ckplus import read_ckplus
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from tests.data.fixtures import ckplus_label_text, corrupt, face, make_ckplus48, make_ckplus_original, write_image

SIX = {"anger": 2, "disgust": 4, "fear": 2, "happiness": 2, "sadness": 2, "surprise": 2}


def test_original_layout_takes_the_peak_frame_and_merges_contempt(tmp_path, caplog):
    root = make_ckplus_original(tmp_path, subjects=2, frames=4, unlabelled=1)
    with caplog.at_level(logging.INFO, logger="fer_keras.data.readers.ckplus"):
        result = read_ckplus(root)
    table = result.table
    assert len(table) == 2 * 7 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == SIX
    assert set(table["frame"]) == {4} and sorted(table["subject"].unique()) == ["S005", "S010"]
    assert set(table["sequence"]) == {f"{q:03d}" for q in range(1, 8)}
    assert table["path"].str.endswith("_00000004.png").all()
    assert "skipped 2 sequences without an emotion file" in caplog.text


def test_label_file_body_is_the_real_float_format(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, codes=(3,), unlabelled=0)
    assert (root / "Emotion/S005/001/S005_001_00000004_emotion.txt").read_text() == "   3.0000000e+00\n"
    assert read_ckplus(root).table["label"].tolist() == ["disgust"]


def test_keep_contempt_gives_eight_classes(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, codes=(1, 2, 3), unlabelled=0)
    assert sorted(read_ckplus(root, keep_contempt=True).table["label"]) == ["anger", "contempt", "disgust"]
    assert sorted(read_ckplus(root).table["label"]) == ["anger", "disgust", "disgust"]


def test_last_n_and_neutral_first_frame(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, frames=5, codes=(5, 7), unlabelled=0)
    table = read_ckplus(root, last_n=3).table
    assert len(table) == 6 and sorted(set(table["frame"])) == [3, 4, 5]
    table = read_ckplus(root, last_n=2, include_neutral_first_frame=True).table
    assert len(table) == 2 * 3
    neutral = table[table["label"] == "neutral"]
    assert neutral["frame"].tolist() == [1, 1] and sorted(neutral["sequence"]) == ["001", "002"]
    assert table[table["label"] != "neutral"]["frame"].tolist() == [4, 5, 4, 5]
    short = read_ckplus(root, last_n=9, include_neutral_first_frame=True).table
    assert len(short) == 10 and "neutral" not in set(short["label"])  # frame 1 is already an expression frame


def test_root_may_be_above_the_release_folders(tmp_path):
    make_ckplus_original(tmp_path / "downloads", subjects=1, unlabelled=0)
    assert len(read_ckplus(tmp_path).table) == 7


def test_corrupt_peak_frame_is_excluded_or_raises_in_strict(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, codes=(1, 5), unlabelled=0)
    broken = corrupt(root / "cohn-kanade-images/S005/002/S005_002_00000004.png", "garbage")
    result = read_ckplus(root)
    assert result.table["label"].tolist() == ["anger"]
    assert result.excluded[["path", "label"]].values.tolist() == [[str(broken), "happiness"]]
    assert "unreadable" in result.excluded["reason"].iloc[0]
    with pytest.raises(DatasetError, match="S005_002_00000004.png: unreadable"):
        read_ckplus(root, strict=True)


def test_unknown_or_malformed_label_file_raises_one_line(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, codes=(1,), unlabelled=0)
    label_file = root / "Emotion/S005/001/S005_001_00000004_emotion.txt"
    label_file.write_text(ckplus_label_text(9))
    with pytest.raises(DatasetError, match=r"^ckplus: unknown emotion code 9 in .*S005_001_00000004_emotion\.txt"):
        read_ckplus(root)
    label_file.write_text("happy\n")
    with pytest.raises(DatasetError, match="should hold one number 0-7, found 'happy'"):
        read_ckplus(root)


def test_missing_emotion_folder_and_bad_options_are_named(tmp_path):
    root = make_ckplus_original(tmp_path, subjects=1, codes=(1,), unlabelled=0)
    (root / "Emotion/S005/001/S005_001_00000004_emotion.txt").unlink()
    for folder in sorted((root / "Emotion").rglob("*"), reverse=True):
        folder.rmdir()
    (root / "Emotion").rmdir()
    with pytest.raises(DatasetError, match="expected an Emotion folder"):
        read_ckplus(root)
    with pytest.raises(DatasetError, match="last_n must be a positive integer"):
        read_ckplus(root, last_n=0)


def test_ck48_folders_give_subject_sequence_frame(tmp_path):
    root = make_ckplus48(tmp_path, {"anger": 2, "contempt": 1, "disgust": 1, "happy": 1}, frames=3)
    table = read_ckplus(root).table
    assert table["label"].value_counts().to_dict() == {"anger": 6, "disgust": 6, "happiness": 3}
    assert table["subject"].nunique() == 5 and set(table["sequence"]) == {"004"}
    assert sorted(set(table["frame"])) == [17, 18, 19]
    assert read_ckplus(root, keep_contempt=True).table["label"].value_counts()["contempt"] == 3
    peak = read_ckplus(root, last_n=1).table
    assert len(peak) == 5 and set(peak["frame"]) == {19}


def test_ck48_corrupt_unknown_empty_and_neutral_option(tmp_path):
    root = make_ckplus48(tmp_path, {"anger": 1, "fear": 1})
    corrupt(root / "fear" / "S011_004_00000018.png", "empty")
    result = read_ckplus(root)
    assert len(result.table) == 5 and result.excluded["reason"].tolist() == ["empty file"]
    with pytest.raises(DatasetError, match="needs the original CK\\+ layout"):
        read_ckplus(root, include_neutral_first_frame=True)
    (root / "bored").mkdir()
    write_image(root / "bored" / "S099_001_00000001.png", face(0, "anger"))
    with pytest.raises(DatasetError, match="ckplus: unknown emotion code 'bored'"):
        read_ckplus(root)
    (root / "bored" / "S099_001_00000001.png").unlink()
    (root / "bored").rename(root / "sadness")
    with pytest.raises(DatasetError, match=r"class folder .*sadness has no images"):
        read_ckplus(root)


def test_wrong_root_names_both_layouts(tmp_path):
    write_image(tmp_path / "pics" / "a.png", face(0, "anger"))
    layout = r"^ckplus: expected cohn-kanade-images/S005/001/\*\.png .* CK\+48 class folders"
    with pytest.raises(DatasetError, match=layout):
        read_ckplus(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("ckplus", str(make_ckplus48(tmp_path, {"anger": 1}))).table) == 3


@pytest.mark.real_data
def test_real_ck48_counts(ckplus48_root):
    result = read_ckplus(ckplus48_root, check="decode")
    table = result.table
    assert result.excluded.empty and len(table) == 981
    assert table["label"].value_counts().to_dict() == {
        "surprise": 249,
        "disgust": 54 + 177,
        "happiness": 207,
        "anger": 135,
        "sadness": 84,
        "fear": 75,
    }
    assert table["subject"].nunique() == 118
    assert table.groupby(["subject", "sequence", "label"]).size().max() == 3
    eight = read_ckplus(ckplus48_root, keep_contempt=True).table["label"].value_counts()
    assert (eight["contempt"], eight["disgust"]) == (54, 177)
