"""fer_keras/labels.py: canonical classes, views and dataset code maps."""

import pytest

from fer_keras import labels


def test_views():
    assert len(labels.CLASSES_6) == 6 and labels.NEUTRAL not in labels.CLASSES_6
    assert labels.CLASSES_7[-1] == labels.NEUTRAL and len(labels.CLASSES_7) == 7
    assert labels.CLASSES_8[-1] == labels.CONTEMPT
    assert labels.resolve_classes("6") == list(labels.CLASSES_6)


@pytest.mark.parametrize(
    "code_map, size",
    [(labels.JAFFE_CODES, 7), (labels.FER2013_INDICES, 7), (labels.CKPLUS_INDICES, 8), (labels.KDEF_CODES, 7),
     (labels.OULU_FOLDERS, 6), (labels.FACES_CODES, 6)],
)
def test_code_maps_reach_canonical_classes(code_map, size):
    assert len(set(code_map.values())) == size
    assert set(code_map.values()) <= set(labels.CLASSES_8)


def test_known_codes():
    assert labels.FER2013_INDICES[0] == labels.ANGER and labels.FER2013_INDICES[6] == labels.NEUTRAL
    assert labels.CKPLUS_INDICES[2] == labels.CONTEMPT and labels.CKPLUS_INDICES[0] == labels.NEUTRAL
    assert labels.KDEF_CODES["AF"] == labels.FEAR
    assert labels.merge_contempt(labels.CONTEMPT) == labels.DISGUST
    assert labels.merge_contempt(labels.FEAR) == labels.FEAR


def test_unknown_code_is_one_clear_line():
    with pytest.raises(labels.UnknownLabelError) as error:
        labels.lookup(labels.JAFFE_CODES, "XX", "jaffe", "KA.XX1.1.tiff")
    message = str(error.value)
    assert "XX" in message and "KA.XX1.1.tiff" in message and "AN" in message and "\n" not in message


def test_canonical_order_and_abbreviations():
    assert labels.canonical_order(["neutral", "anger", "zebra"]) == ["anger", "neutral", "zebra"]
    assert labels.abbreviation("happiness") == "HA"
    assert labels.abbreviation("zebra") == "ZE"
    with pytest.raises(labels.UnknownLabelError):
        labels.resolve_classes("5")


def test_class_list_is_checked_against_canonical_and_present_names():
    assert labels.resolve_classes(["happiness", "anger"]) == ["happiness", "anger"]
    assert labels.resolve_classes(["cat", "anger"], present=["cat", "anger"]) == ["cat", "anger"]
    with pytest.raises(labels.UnknownLabelError, match=r"unknown class 'happy'; use names from anger, "):
        labels.resolve_classes(["happy", "anger"], present=["anger", "happiness"])
    with pytest.raises(labels.UnknownLabelError, match="anger listed more than once"):
        labels.resolve_classes(["anger", "anger"])


def test_class_folder_names_map_to_canonical_classes():
    assert labels.class_of_folder("3 - Surprise") == "surprise"
    assert labels.class_of_folder("angry") == "anger" and labels.class_of_folder("Happiness") == "happiness"
    assert labels.class_of_folder("train") is None
