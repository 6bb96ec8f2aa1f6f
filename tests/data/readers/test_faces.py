"""FACES database reader on a fixture of real ``004_o_m_a_a.jpg`` file names."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.faces import read_faces
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from fer_keras.labels import CLASSES_6, NEUTRAL, SURPRISE
from tests.data.fixtures import corrupt, face, make_faces, write_image

SIX = [c for c in CLASSES_6 if c != SURPRISE] + [NEUTRAL]


def test_reads_subject_age_gender_and_set(tmp_path):
    root = make_faces(tmp_path)
    result = read_faces(root)
    table = result.table
    assert len(table) == 3 * 6 * 2 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == {c: 6 for c in SIX}
    assert table["subject"].value_counts().to_dict() == {"004": 12, "066": 12, "140": 12}
    row = table[table["path"].str.endswith("004_o_m_a_b.jpg")].iloc[0]
    assert (row["label"], row["subject"], row["age_group"], row["gender"], row["picture_set"]) == (
        "anger", "004", "old", "male", "b"
    )
    assert set(table["age_group"]) == {"old", "young", "middle"} and set(table["gender"]) == {"male", "female"}


def test_nested_folders_and_parent_root(tmp_path):
    root = make_faces(tmp_path, people=(("004", "o", "m"),), sets=("a",))
    (root / "old").mkdir()
    (root / "004_o_m_h_a.jpg").rename(root / "old" / "004_o_m_h_a.jpg")
    table = read_faces(tmp_path).table
    assert len(table) == 6 and "happiness" in set(table["label"])


def test_corrupt_and_misnamed_files_are_excluded(tmp_path):
    root = make_faces(tmp_path, people=(("004", "o", "m"),), sets=("a",))
    broken = corrupt(root / "004_o_m_s_a.jpg", "garbage")
    write_image(root / "portrait.jpg", face(0, "anger", "rgb"))
    result = read_faces(root)
    assert len(result.table) == 5 and "sadness" not in set(result.table["label"])
    assert result.excluded["reason"].tolist() == [
        "file name not like 004_o_m_a_a.jpg",
        "unreadable (not a TIFF, PNG, JPEG or BMP file)",
    ]
    assert result.excluded["path"].iloc[1] == str(broken)
    with pytest.raises(DatasetError, match="strict mode"):
        read_faces(root, strict=True)


def test_unknown_emotion_code_raises_one_line(tmp_path):
    root = make_faces(tmp_path, people=(("004", "o", "m"),), sets=("a",))
    write_image(root / "004_o_m_u_a.jpg", face(0, "surprise", "rgb"))
    message = r"^faces: unknown emotion code 'u' in .*004_o_m_u_a\.jpg; known codes: a, d"
    with pytest.raises(DatasetError, match=message):
        read_faces(root)


def test_wrong_root_names_the_layout(tmp_path):
    write_image(tmp_path / "KA.AN1.39.tiff", face(0, "anger"))
    message = r"^faces: expected image files named like 004_o_m_a_a\.jpg in .*; found none$"
    with pytest.raises(DatasetError, match=message):
        read_faces(tmp_path)


def test_registered_under_its_name(tmp_path):
    root = make_faces(tmp_path, people=(("004", "o", "m"),), sets=("a",))
    assert len(read_dataset("faces", root).table) == 6
