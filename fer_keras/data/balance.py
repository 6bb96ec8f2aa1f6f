"""Class balancing by resampling indices (no images are written).

``balanced_indices`` returns the sample indices of one training epoch: every original image
at least once, plus extra copies of minority-class images. The copies become different
images because the random augmentation runs on every batch (see :mod:`fer_keras.data.augment`).

Modes (``augmentation.balance`` in a config):

- ``none``: every sample once (``arange``).
- ``per_class``: every class reaches ``target`` images (default: the largest class's count).
- ``total``: ``target`` images in all (the MobileNetV2 paper grows JAFFE's 213 to 79,450),
  spread evenly across classes, the remainder going to the first classes; a class that
  already has more than its share keeps all its images and the rest is spread over the others.

Extra copies are drawn round-robin: each image of a class is copied once before any is
copied twice (a seeded random subset covers the last partial round).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer_keras.errors import DatasetError
from fer_keras.labels import canonical_order
from fer_keras.memory import check_fits

MODES = ("none", "per_class", "total")


def balanced_indices(
    labels: np.ndarray | Sequence,
    mode: str,
    target: int | None = None,
    seed: int = 0,
    classes: Sequence | None = None,
) -> np.ndarray:
    """Indices into ``labels`` for one balanced epoch, in a seeded random order.

    ``classes`` (optional) names every class that must be present; one with no samples is
    an error. The order is shuffled so that even a small shuffle buffer downstream mixes classes.
    """
    labels = np.asarray(labels)
    if mode not in MODES:
        raise DatasetError(f"balance mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    if labels.size == 0:
        raise DatasetError("balance: no samples to balance (the label array is empty)")
    if mode == "none":
        return np.arange(len(labels))
    order = _class_order(labels, classes)
    members = [np.flatnonzero(labels == name) for name in order]
    counts = np.array([len(m) for m in members])
    wanted = _wanted_counts(counts, mode, target, order)
    check_fits(32 * int(np.sum(wanted)), f"balancing to {int(np.sum(wanted)):,} images an epoch",
               "lower augmentation.balance_target")  # int64 picks, their concatenation, its permutation, tf.data's copy
    rng = np.random.default_rng(seed)
    chosen = [_fill(m, n, rng) for m, n in zip(members, wanted)]
    return rng.permutation(np.concatenate(chosen))


def _class_order(labels: np.ndarray, classes: Sequence | None, check_empty: bool = True) -> list:
    """Classes in canonical order; with ``classes`` given, each must have samples."""
    present = set(labels.tolist())
    if classes is None:
        return canonical_order(present)
    order = list(classes)
    empty = [c for c in order if c not in present]
    if empty and check_empty:
        raise DatasetError(
            f"balance: class {', '.join(map(repr, empty))} has no images, so it cannot be balanced; "
            f"classes present: {', '.join(map(str, canonical_order(present)))}"
        )
    unknown = present - set(order)
    if unknown:
        raise DatasetError(
            f"balance: labels {', '.join(map(repr, sorted(map(str, unknown))))} are not among classes {order}"
        )
    return order


def _wanted_counts(counts: np.ndarray, mode: str, target: int | None, order: list) -> np.ndarray:
    """How many images each class gets, never fewer than it has."""
    if target is not None and target < 1:
        raise DatasetError(f"balance_target must be a positive number of images, got {target}")
    if mode == "per_class":
        if target is None:
            return np.full_like(counts, counts.max())
        if target < counts.max():
            biggest = order[int(np.argmax(counts))]
            raise DatasetError(
                f"balance per_class: target {target} is smaller than class {biggest!r} with {counts.max()} images "
                f"and balancing never drops originals; use balance_target >= {counts.max()} or leave it empty"
            )
        return np.full_like(counts, target)
    if target is None:
        raise DatasetError("balance total needs balance_target: the total number of images, e.g. 79450")
    if target < counts.sum():
        raise DatasetError(
            f"balance total: target {target} is smaller than the {counts.sum()} images there are "
            f"and balancing never drops originals; use balance_target >= {counts.sum()}"
        )
    return _water_fill(counts, target)


def _water_fill(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` evenly over classes (remainder to the first), keeping every class >= its count."""
    fixed = np.zeros(len(counts), dtype=bool)
    while True:
        free = ~fixed
        budget = total - counts[fixed].sum()
        share = budget // free.sum()
        over = free & (counts > share)
        if not over.any():
            break
        fixed |= over
    wanted = np.where(fixed, counts, share)
    remainder = budget - share * free.sum()
    for position in np.flatnonzero(free)[:remainder]:
        wanted[position] += 1
    return wanted


def _fill(members: np.ndarray, wanted: int, rng: np.random.Generator) -> np.ndarray:
    """Every member once, then round-robin copies (a random subset for the last round)."""
    extra = wanted - len(members)
    rounds, rest = divmod(extra, len(members))
    parts = [members] * (1 + rounds)
    parts.append(rng.choice(members, size=rest, replace=False))
    return np.concatenate(parts)
