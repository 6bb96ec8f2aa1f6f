"""The readers on the real files in ../shared/datasets: the README's exact counts (skipped when absent)."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.fer2013 import read_fer2013
from fer_keras.data.readers.jaffe import read_jaffe
from fer_keras.data.registry import read_dataset

FER2013_COUNTS = {  # class: (train, PublicTest = val, PrivateTest = test), from ../shared/datasets/README.md
    "anger": (3995, 467, 491), "disgust": (436, 56, 55), "fear": (4097, 496, 528), "happiness": (7215, 895, 879),
    "neutral": (4965, 607, 626), "sadness": (4830, 653, 594), "surprise": (3171, 415, 416),
}
JAFFE_CLASSES = {"happiness": 31, "sadness": 31, "surprise": 30, "disgust": 29, "fear": 32, "anger": 30, "neutral": 30}
KDEF_SUBSET_CLASSES = {"fear": 12, "anger": 14, "disgust": 10, "happiness": 6, "neutral": 12, "sadness": 10,
                       "surprise": 18}  # AF AN DI HA NE SA SU, from ../shared/datasets/README.md
JAFFE_SUBJECTS = {"KA": 23, "KL": 22, "KM": 22, "KR": 20, "MK": 21, "NA": 21, "NM": 20, "TM": 21, "UY": 21, "YM": 22}


@pytest.mark.real_data
def test_real_fer2013_folders_give_the_official_three_way_split(fer2013_root):
    result = read_fer2013(fer2013_root, check="none")
    table = result.table
    assert len(table) == 35887 and result.excluded.empty
    counts = table.groupby(["label", "usage"]).size()
    for label, (train, val, test) in FER2013_COUNTS.items():
        assert (counts[label, "train"], counts[label, "val"], counts[label, "test"]) == (train, val, test), label
    assert table["usage"].value_counts().to_dict() == {"train": 28709, "val": 3589, "test": 3589}


@pytest.mark.real_data
def test_real_jaffe_class_folders_read_all_213_and_drop_the_stray_copy(jaffe_root):
    result = read_jaffe(jaffe_root)
    table = result.table
    assert len(table) == 213
    assert table["label"].value_counts().to_dict() == JAFFE_CLASSES
    assert table["subject"].value_counts().to_dict() == JAFFE_SUBJECTS
    assert table["path"].str.lower().str.endswith(".tiff").all()
    stray = result.excluded[result.excluded["path"].str.endswith("YM.SU3.60.jpg")]
    assert len(stray) == 1 and stray["reason"].iloc[0].startswith("duplicate of ")
    assert not result.excluded["reason"].str.contains("contradicts|not like").any()


@pytest.mark.real_data
def test_real_jaffe_flat_copy_reads_the_same_images(jaffe_root, tmp_path):
    flat = tmp_path / "jaffedbase"
    flat.mkdir()
    for path in jaffe_root.rglob("*.tiff"):
        (flat / path.name).symlink_to(path)
    assert sorted(p.rsplit("/", 1)[1] for p in read_jaffe(flat).table["path"]) == \
        sorted(p.rsplit("/", 1)[1] for p in read_jaffe(jaffe_root).table["path"])


@pytest.mark.real_data
def test_real_kdef_subset_flat_folder_reads_82_photos_of_52_people(kdef_subset_root):
    result = read_dataset("kdef", str(kdef_subset_root))
    table = result.table
    assert len(table) == 82 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == KDEF_SUBSET_CLASSES
    assert table["subject"].nunique() == 52
    assert set(table["session"]) == {"A"} and set(table["angle"]) == {"straight"}
    row = table[table["path"].str.endswith("AF01AFS.jpg")].iloc[0]
    assert (row["label"], row["subject"], row["gender"]) == ("fear", "F01", "female")
