"""Tests for fer_keras.data.balance: exact per-class counts, originals kept, seeded determinism."""

from __future__ import annotations

import numpy as np
import pytest

from fer_keras.data.balance import balanced_indices
from fer_keras.errors import DatasetError

JAFFE_COUNTS = {"anger": 30, "disgust": 29, "fear": 32, "happiness": 31, "sadness": 31, "surprise": 30, "neutral": 30}


def make_labels(counts: dict) -> np.ndarray:
    """Labels with the given per-class counts, interleaved (not grouped) like a real table."""
    labels = np.concatenate([[name] * n for name, n in counts.items()])
    return np.random.default_rng(1).permutation(labels)


def per_class(labels: np.ndarray, indices: np.ndarray) -> dict:
    names, counts = np.unique(labels[indices], return_counts=True)
    return dict(zip(names.tolist(), counts.tolist()))


def test_none_is_every_sample_once():
    labels = make_labels({"anger": 3, "fear": 5})
    np.testing.assert_array_equal(balanced_indices(labels, "none", None, seed=0), np.arange(8))


def test_per_class_defaults_to_largest_class():
    labels = make_labels({"anger": 3, "fear": 10, "happiness": 7})
    indices = balanced_indices(labels, "per_class", None, seed=0)
    assert per_class(labels, indices) == {"anger": 10, "fear": 10, "happiness": 10}
    assert set(indices.tolist()) == set(range(len(labels)))


def test_per_class_target_and_round_robin_copies():
    labels = make_labels({"anger": 3, "fear": 4})
    indices = balanced_indices(labels, "per_class", 11, seed=0)
    assert per_class(labels, indices) == {"anger": 11, "fear": 11}
    copies = np.bincount(indices, minlength=len(labels))
    # anger: 11 = 3*3 + 2 -> each image 3 or 4 times; fear: 11 = 4*2 + 3 -> 2 or 3 times
    for name, low in (("anger", 3), ("fear", 2)):
        own = copies[labels == name]
        assert own.min() == low and own.max() == low + 1


def test_total_jaffe_213_to_79450():
    labels = make_labels(JAFFE_COUNTS)
    assert len(labels) == 213
    indices = balanced_indices(labels, "total", 79450, seed=0)
    assert len(indices) == 79450
    assert per_class(labels, indices) == {name: 11350 for name in JAFFE_COUNTS}
    assert set(indices.tolist()) == set(range(213))


def test_total_remainder_goes_to_first_classes_in_canonical_order():
    labels = make_labels(JAFFE_COUNTS)
    indices = balanced_indices(labels, "total", 703, seed=0)  # 703 = 7*100 + 3
    counts = per_class(labels, indices)
    assert counts == {"anger": 101, "disgust": 101, "fear": 101, "happiness": 100,
                      "sadness": 100, "surprise": 100, "neutral": 100}


def test_total_keeps_originals_of_a_class_above_its_share():
    labels = make_labels({"anger": 2, "fear": 20, "happiness": 5})
    indices = balanced_indices(labels, "total", 30, seed=0)
    assert per_class(labels, indices) == {"anger": 5, "fear": 20, "happiness": 5}
    assert set(indices.tolist()) == set(range(len(labels)))


def test_seeded_determinism():
    labels = make_labels(JAFFE_COUNTS)
    first = balanced_indices(labels, "total", 1000, seed=7)
    np.testing.assert_array_equal(first, balanced_indices(labels, "total", 1000, seed=7))
    assert not np.array_equal(first, balanced_indices(labels, "total", 1000, seed=8))


def test_integer_labels():
    labels = np.array([0, 0, 1, 2, 2, 2])
    assert per_class(labels, balanced_indices(labels, "per_class", None, seed=0)) == {0: 3, 1: 3, 2: 3}


@pytest.mark.parametrize(
    ("mode", "target", "message"),
    [
        ("per_class", 5, "smaller than class 'fear' with 10 images"),
        ("total", 12, "smaller than the 13 images"),
        ("total", None, "needs balance_target"),
        ("sideways", None, "unknown"),
    ],
)
def test_bad_targets_are_one_clear_error(mode, target, message):
    labels = make_labels({"anger": 3, "fear": 10})
    with pytest.raises(DatasetError, match=message):
        balanced_indices(labels, mode, target, seed=0)


def test_empty_class_and_empty_labels_are_errors():
    labels = make_labels({"anger": 3, "fear": 10})
    with pytest.raises(DatasetError, match="'disgust' has no images"):
        balanced_indices(labels, "per_class", None, seed=0, classes=["anger", "disgust", "fear"])
    with pytest.raises(DatasetError, match="empty"):
        balanced_indices(np.array([]), "per_class", None, seed=0)
