"""KDEF reader on a fixture in the real ``KDEF/AF01/AF01AFS.JPG`` layout."""

from __future__ import annotations

import pytest

from fer_keras.data.readers.kdef import angle_codes, read_kdef
from fer_keras.errors import DatasetError
from fer_keras.data.registry import read_dataset
from fer_keras.labels import CLASSES_7
from tests.data.fixtures import corrupt, face, make_kdef, write_image


def test_reads_subject_session_gender_angle(tmp_path):
    root = make_kdef(tmp_path, people=("AF01", "AM02", "BF01"))
    result = read_kdef(root)
    table = result.table
    assert len(table) == 3 * 7 * 5 and result.excluded.empty
    assert table["label"].value_counts().to_dict() == {c: 15 for c in CLASSES_7}
    assert table["subject"].value_counts().to_dict() == {"F01": 70, "M02": 35}
    assert table["session"].value_counts().to_dict() == {"A": 70, "B": 35}
    assert table["gender"].value_counts().to_dict() == {"female": 70, "male": 35}
    assert table["angle"].value_counts().to_dict() == {
        a: 21 for a in ("full_left", "half_left", "straight", "half_right", "full_right")
    }
    row = table[table["path"].str.endswith("AM02AFHL.JPG")].iloc[0]
    assert (row["label"], row["subject"], row["angle"]) == ("fear", "M02", "half_left")
    row = table[table["path"].str.endswith("AM02SAS.JPG")].iloc[0]
    assert (row["label"], row["angle"]) == ("sadness", "straight")


def test_angle_filter_accepts_codes_and_names(tmp_path):
    root = make_kdef(tmp_path, people=("AF01",))
    assert set(read_kdef(root, angles=["S"]).table["angle"]) == {"straight"}
    table = read_kdef(root, angles=["half_left", "HR"]).table
    assert len(table) == 14 and set(table["angle"]) == {"half_left", "half_right"}
    assert angle_codes("straight") == {"S"}
    with pytest.raises(DatasetError, match="kdef: unknown angle 'up'; known: FL/full_left"):
        read_kdef(root, angles=["up"])


def test_corrupt_and_misnamed_files_are_excluded(tmp_path):
    root = make_kdef(tmp_path, people=("AF01",), angles=("S",))
    broken = corrupt(root / "KDEF" / "AF01" / "AF01HAS.JPG", "truncated")
    write_image(root / "KDEF" / "AF01" / "AF01HAS2.JPG", face(0, "happiness", "rgb"))
    result = read_kdef(root)
    assert len(result.table) == 6 and "happiness" not in set(result.table["label"])
    reasons = dict(zip(result.excluded["path"].str.rsplit("/", n=1).str[-1], result.excluded["reason"]))
    assert reasons == {
        "AF01HAS.JPG": "truncated (no JPEG end marker)",
        "AF01HAS2.JPG": "file name not like AF01AFS.JPG",
    }
    assert str(broken) in set(result.excluded["path"])
    with pytest.raises(DatasetError, match="strict mode"):
        read_kdef(root, strict=True)


def test_unknown_expression_code_raises_one_line(tmp_path):
    root = make_kdef(tmp_path, people=("AF01",), angles=("S",))
    write_image(root / "KDEF" / "AF01" / "AF01XXS.JPG", face(0, "anger", "rgb"))
    with pytest.raises(DatasetError, match=r"^kdef: unknown emotion code 'XX' in .*AF01XXS\.JPG; known codes: AF"):
        read_kdef(root)


def test_wrong_root_names_the_layout(tmp_path):
    write_image(tmp_path / "AF01" / "holiday.JPG", face(0, "anger", "rgb"))
    message = r"^kdef: expected KDEF images named like AF01AFS\.JPG \(in person folders .*\) in .*; found none$"
    with pytest.raises(DatasetError, match=message):
        read_kdef(tmp_path)


def test_registered_under_its_name(tmp_path):
    assert len(read_dataset("kdef", make_kdef(tmp_path, people=("BM35",), angles=("FR",))).table) == 7


@pytest.mark.parametrize("layout", ["flat", "class"])
def test_redistributed_layouts_read_as_the_publishers(tmp_path, layout):
    """One flat folder of lower-case .jpg names (the real KDEF_subset), or class folders: same rows."""
    people = ("AF01", "AM02", "BF01")
    publisher = read_kdef(make_kdef(tmp_path / "person", people=people, angles=("S", "HL"))).table
    table = read_kdef(make_kdef(tmp_path / layout, people=people, angles=("S", "HL"), layout=layout)).table
    columns = ["label", "subject", "session", "gender", "angle"]
    key = publisher["path"].map(lambda p: p.rsplit("/", 1)[1].lower())
    other = table["path"].map(lambda p: p.rsplit("/", 1)[1].lower())
    assert len(table) == len(publisher) == 3 * 7 * 2
    assert table.assign(name=other).sort_values("name")[columns].values.tolist() == \
        publisher.assign(name=key).sort_values("name")[columns].values.tolist()
