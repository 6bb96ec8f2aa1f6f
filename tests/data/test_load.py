"""fer_keras/data/load.py: a data section → samples, class order, label ids, decoded pixels, what was left out."""

import numpy as np
import pandas as pd
import pytest

from fer_keras.config import DataConfig
from fer_keras.data.load import load_data
from fer_keras.data.readers.synthetic import make_synthetic_faces, write_class_folders
from fer_keras.errors import DatasetError


@pytest.fixture
def folder(tmp_path):
    faces = make_synthetic_faces(n_subjects=2, images_per_class=1, image_size=48, seed=1,
                                 classes=["anger", "happiness", "neutral"])
    write_class_folders(faces, tmp_path / "faces")
    (tmp_path / "faces" / "happiness" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return tmp_path / "faces"


def data(root, **changes):
    return DataConfig(dataset="folder", root=str(root), image_size=(24, 24), **changes)


def test_decodes_every_readable_image_and_lists_the_rest(folder):
    loaded = load_data(data(folder))
    assert loaded.images.shape == (6, 24, 24, 1) and loaded.images.dtype == np.uint8
    assert loaded.classes == ["anger", "happiness", "neutral"]
    assert [loaded.classes[i] for i in loaded.label_ids] == loaded.table["label"].tolist()
    assert len(loaded.excluded) == 1 and loaded.excluded["path"].iloc[0].endswith("broken.png")
    total = loaded.counts.set_index("class").loc["total"]
    assert (total["before"], total["after"], total["excluded"]) == (7, 6, 1)
    assert "image" not in loaded.table.columns


def test_given_classes_fix_the_label_ids_and_shared_only_keeps_what_the_set_has(folder):
    model_classes = ["anger", "disgust", "happiness", "neutral"]
    with pytest.raises(DatasetError, match="'disgust' has no images"):
        load_data(data(folder), classes=model_classes)
    shared = load_data(data(folder), classes=model_classes, shared_only=True)
    assert shared.classes == model_classes
    assert sorted(set(shared.label_ids.tolist())) == [0, 2, 3]  # ids in the model's order, no disgust
    with pytest.raises(DatasetError, match="shares no class"):
        load_data(data(folder), classes=["fear", "surprise"], shared_only=True)


def test_copies_share_pixels_and_get_their_own_keys(folder):
    loaded = load_data(data(folder, color_mode="rgb"))
    copies = loaded.as_copies(np.array([0, 0, 3]))
    assert copies.images is loaded.images and copies.input_shape == (24, 24, 3)
    assert copies.table["path"].str.endswith(("#0", "#1")).all() and copies.table["path"].nunique() == 3
    assert np.array_equal(copies.pixels(np.array([1, 2])), loaded.images[[0, 3]])
    assert isinstance(copies.table, pd.DataFrame) and copies.label_ids.tolist() == loaded.label_ids[[0, 0, 3]].tolist()
