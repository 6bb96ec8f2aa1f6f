"""FER2013 reader: the Kaggle CSV and the image-folder variant, in their real layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer_keras.data.readers.fer2013 import parse_pixels, read_fer2013
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from fer_keras.labels import CLASSES_7
from tests.data.fixtures import corrupt, face, make_fer2013_csv, make_fer2013_folders, make_fer2013_kaggle_folders, write_image


def test_csv_gives_images_usage_and_unique_subjects(tmp_path):
    csv = make_fer2013_csv(tmp_path, {"Training": 2, "PublicTest": 1, "PrivateTest": 1})
    result = read_fer2013(csv)
    table = result.table
    assert len(table) == 7 * 4 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == {c: 4 for c in CLASSES_7}
    assert table["usage"].value_counts().to_dict() == {"train": 14, "val": 7, "test": 7}
    assert table["path"].isna().all() and table["subject"].is_unique
    image = table["image"].iloc[0]
    assert image.shape == (48, 48, 1) and image.dtype == np.uint8
    source = pd.read_csv(csv)
    np.testing.assert_array_equal(image.ravel(), np.array(source["pixels"][0].split(), dtype=np.uint8))
    assert table["label"].iloc[0] == "anger" and table["row"].tolist() == list(range(1, 29))


def test_root_may_be_the_folder_holding_the_csv_or_its_parent(tmp_path):
    csv = make_fer2013_csv(tmp_path, {"Training": 1})
    assert len(read_fer2013(csv.parent).table) == 7
    assert len(read_fer2013(tmp_path).table) == 7


def test_malformed_pixels_row_is_excluded_or_raises_in_strict(tmp_path):
    csv = make_fer2013_csv(tmp_path, {"Training": 1})
    frame = pd.read_csv(csv)
    frame.loc[2, "pixels"] = " ".join(["1"] * 100)
    frame.to_csv(csv, index=False)
    result = read_fer2013(csv)
    assert len(result.table) == 6
    assert result.excluded.to_dict("records") == [
        {"path": f"{csv} row 3", "label": "fear", "reason": "pixels: expected 2304 values, found 100"}
    ]
    with pytest.raises(DatasetError, match=r"row 3: pixels: expected 2304 values"):
        read_fer2013(csv, strict=True)


def test_unknown_emotion_or_usage_raise_one_line(tmp_path):
    csv = make_fer2013_csv(tmp_path, {"Training": 1})
    frame = pd.read_csv(csv)
    frame.loc[1, "emotion"] = 9
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match=r"^fer2013: unknown emotion code 9 in .*fer2013\.csv row 2; known codes"):
        read_fer2013(csv)
    frame.loc[1, "emotion"] = 1
    frame.loc[0, "Usage"] = "Holdout"
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match=r"unknown Usage 'Holdout' in .* row 1"):
        read_fer2013(csv)


def test_csv_without_pixels_column_says_what_is_expected(tmp_path):
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,Usage\n0,Training\n")
    with pytest.raises(DatasetError, match="has no pixels column; expected columns emotion, pixels, Usage"):
        read_fer2013(csv)


def test_csv_without_usage_reads_without_usage_column(tmp_path):
    csv = make_fer2013_csv(tmp_path, {"Training": 1})
    pd.read_csv(csv).drop(columns=["Usage"]).to_csv(csv, index=False)
    table = read_fer2013(csv).table
    assert len(table) == 7 and "usage" not in table.columns


def test_image_folders_give_usage_from_split_folder(tmp_path):
    root = make_fer2013_folders(tmp_path, per_class=2)
    result = read_fer2013(root)
    table = result.table
    assert len(table) == 28 and result.excluded.empty
    assert table["usage"].value_counts().to_dict() == {"train": 14, "test": 14}
    assert table["label"].value_counts().to_dict() == {c: 4 for c in CLASSES_7}
    assert "image" not in table.columns and table["subject"].is_unique
    assert "train/happy/im1" in set(table["subject"])


def test_image_folders_exclude_corrupt_files(tmp_path):
    root = make_fer2013_folders(tmp_path, per_class=1)
    broken = corrupt(root / "train" / "sad" / "im0.png", "truncated")
    result = read_fer2013(root)
    assert len(result.table) == 13
    assert result.excluded["path"].tolist() == [str(broken)] and "truncated" in result.excluded["reason"].iloc[0]
    with pytest.raises(DatasetError, match="strict mode"):
        read_fer2013(root, strict=True)


def test_unknown_class_folder_and_empty_class_raise(tmp_path):
    root = make_fer2013_folders(tmp_path, per_class=1, splits=("train",))
    (root / "train" / "bored").mkdir()
    with pytest.raises(DatasetError, match="fer2013: unknown emotion code 'bored'"):
        read_fer2013(root)
    (root / "train" / "bored").rmdir()
    (root / "train" / "disgust" / "im0.png").unlink()
    with pytest.raises(DatasetError, match=r"class folder .*disgust has no images"):
        read_fer2013(root)


def test_wrong_root_names_both_layouts(tmp_path):
    write_image(tmp_path / "x" / "a.png", face(0, "anger"))
    with pytest.raises(DatasetError, match=r"^fer2013: expected fer2013\.csv .* or train/<class>/ and test/<class>/ "
                                           r"folders of \.png or \.jpg files"):
        read_fer2013(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("fer2013", str(make_fer2013_csv(tmp_path, {"PrivateTest": 1}))).table) == 7


@pytest.mark.slow
def test_full_size_csv_parses_in_seconds(tmp_path):
    import time

    pixels = " ".join(["128"] * 2304)
    frame = pd.DataFrame({"emotion": np.arange(35887) % 7, "pixels": pixels, "Usage": "Training"})
    frame.to_csv(tmp_path / "fer2013.csv", index=False)
    start = time.perf_counter()
    table = read_fer2013(tmp_path).table
    assert len(table) == 35887 and time.perf_counter() - start < 30


def test_kaggle_image_folders_keep_the_official_split_from_file_prefixes(tmp_path):
    # the real copy mixes PublicTest (validation) and PrivateTest (test) in test/: the prefix decides
    root = make_fer2013_kaggle_folders(tmp_path, per_class=2)
    table = read_fer2013(root).table
    assert table["usage"].value_counts().to_dict() == {"train": 14, "val": 14, "test": 14}
    assert table.loc[table["usage"] == "val", "path"].str.contains("/PublicTest_").all()
    assert table.loc[table["usage"] == "test", "path"].str.contains("/PrivateTest_").all()


def test_prefix_that_contradicts_its_split_folder_stops(tmp_path):
    root = make_fer2013_kaggle_folders(tmp_path, per_class=1)
    moved = next((root / "test" / "sad").glob("PublicTest_*.jpg"))
    moved.rename(root / "train" / "sad" / moved.name)
    with pytest.raises(DatasetError, match=r"PublicTest_.*named as val data but lies in train/") as raised:
        read_fer2013(root)
    assert "\n" not in str(raised.value)


def test_half_prefixed_split_folder_is_refused(tmp_path):
    root = make_fer2013_kaggle_folders(tmp_path, per_class=1)
    write_image(root / "test" / "happy" / "im0.jpg", face(0, "happiness"))
    with pytest.raises(DatasetError, match="mixes files named by split"):
        read_fer2013(root)


def test_non_image_files_in_class_folders_are_counted_not_silent(tmp_path):
    root = make_fer2013_kaggle_folders(tmp_path, per_class=1)
    (root / "train" / "sad" / "Thumbs.db").write_bytes(b"x")
    result = read_fer2013(root)
    assert len(result.table) == 21
    assert result.excluded[["label", "reason"]].values.tolist() == [["sadness", "not an image"]]


def test_parse_pixels_accepts_exact_bytes_and_names_problems():
    image = parse_pixels(" ".join(["7"] * 12), (3, 4, 1))
    assert image.shape == (3, 4, 1) and image.dtype == np.uint8 and int(image.sum()) == 84
    with pytest.raises(ValueError, match="expected 12 values, found 11"):
        parse_pixels(" ".join(["7"] * 11), (3, 4, 1))
    with pytest.raises(ValueError, match="outside 0..255"):
        parse_pixels(" ".join(["256"] * 12), (3, 4, 1))
    with pytest.raises(ValueError, match="not a list of integers"):
        parse_pixels("1 2 x " + " ".join(["7"] * 9), (3, 4, 1))
