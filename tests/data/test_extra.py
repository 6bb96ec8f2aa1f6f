"""Extra training sets join the train part of every fold and nothing else."""

import numpy as np
import pandas as pd
import pytest

from fer_keras.data.extra import extra_training_counts, with_extra_training
from fer_keras.data.load import LoadedData
from fer_keras.data.splits import TEST, TRAIN, VAL, sample_keys
from fer_keras.errors import DatasetError

CLASSES = ["anger", "happiness", "neutral"]


def loaded(n: int, name: str, labels: list[int], size: int = 8, classes=CLASSES) -> LoadedData:
    table = pd.DataFrame({"path": [f"/{name}/{i}.png" for i in range(n)], "label": [classes[k] for k in labels],
                          "subject": [f"{name}{i % 2}" for i in range(n)], "dataset": name})
    images = np.full((n, size, size, 1), len(name), np.uint8)
    return LoadedData(table, classes, np.array(labels, np.int32), images,
                      pd.DataFrame({"path": [f"/{name}/bad.png"], "reason": ["unreadable"]}), pd.DataFrame())


def test_extra_samples_are_appended_to_the_train_part_of_every_fold():
    main = loaded(4, "main", [0, 1, 2, 0])
    folds = [pd.Series([TRAIN, TRAIN, VAL, TEST]), pd.Series([TEST, TRAIN, TRAIN, VAL])]
    extra = loaded(2, "ex", [1, 2])
    joined, extended = with_extra_training(main, folds, [("ex", extra, 3)])
    assert len(joined.table) == 4 + 6 and len(joined.images) == 10
    assert joined.label_ids.tolist() == [0, 1, 2, 0] + [1, 2] * 3
    assert (joined.images[4:] == 2).all() and (joined.images[:4] == 4).all()
    for before, after in zip(folds, extended):
        assert after.iloc[:4].tolist() == before.tolist()  # the main samples keep their parts
        assert (after.iloc[4:] == TRAIN).all()
    assert (sample_keys(joined.table)[:4] == sample_keys(main.table)).all()  # and their keys
    assert len(joined.excluded) == 2 and joined.excluded["dataset"].tolist()[-1] == "ex"


def test_keys_of_in_memory_main_samples_do_not_change_when_extras_have_paths():
    main = loaded(3, "fer2013", [0, 1, 2])
    main.table["path"] = None  # FER2013 read from its CSV: in-memory images
    joined, _ = with_extra_training(main, [pd.Series([TRAIN, VAL, TEST])], [("ex", loaded(1, "ex", [0]), 1)])
    assert sample_keys(joined.table).tolist() == ["fer2013:0", "fer2013:1", "fer2013:2", "/ex/0.png"]


def test_no_extras_changes_nothing():
    main = loaded(2, "main", [0, 1])
    folds = [pd.Series([TRAIN, TEST])]
    assert with_extra_training(main, folds, []) == (main, folds)


@pytest.mark.parametrize("bad, words", [
    (loaded(1, "ex", [0], size=16), "images are (16, 16, 1)"),
    (loaded(1, "ex", [0], classes=["anger", "happiness", "sadness"]), "was decoded on classes"),
])
def test_an_extra_set_decoded_otherwise_is_refused(bad, words):
    with pytest.raises(DatasetError, match=words.replace("(", r"\(").replace(")", r"\)")):
        with_extra_training(loaded(2, "main", [0, 1]), [pd.Series([TRAIN, TEST])], [("ex", bad, 1)])


def test_counts_name_each_set_class_and_repeat():
    counts = extra_training_counts([("ex", loaded(3, "ex", [1, 1, 2]), 4)])
    assert counts.to_dict("records") == [
        {"dataset": "ex", "class": "happiness", "images": 2, "repeat": 4, "train_samples": 8},
        {"dataset": "ex", "class": "neutral", "images": 1, "repeat": 4, "train_samples": 4},
    ]
