"""A config's ``data`` section → the samples, their classes and their decoded pixels.

Read the dataset through the registry, restrict it to the requested classes, optionally
crop faces (images with none go to the exclusion table), and decode everything once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fer_keras.config import DataConfig
from fer_keras.data.faces.table import counts_table, crop_table
from fer_keras.data.decode import decode_or_exclude
from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, read_dataset
from fer_keras.labels import resolve_classes


@dataclass
class LoadedData:
    """Samples ready for splitting: table, class order, label ids, pixels, and what was left out."""

    table: pd.DataFrame
    classes: list[str]
    label_ids: np.ndarray
    images: np.ndarray
    excluded: pd.DataFrame
    counts: pd.DataFrame
    image_index: np.ndarray | None = None  # sample → row of ``images`` when samples are augmented copies

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image."""
        return tuple(self.images.shape[1:])

    def pixels(self, samples: np.ndarray) -> np.ndarray:
        """The uint8 images of the given samples."""
        rows = samples if self.image_index is None else self.image_index[samples]
        return self.images[rows]

    def as_copies(self, copies: np.ndarray) -> "LoadedData":
        """Samples ``copies`` (indices, repeats allowed) as distinct samples sharing the decoded images.

        Used by the augment-then-split protocol: each copy gets its own key (``path#n``) so the
        split can put copies of one photo on both sides, as the MobileNetV2 paper did.
        """
        table = self.table.iloc[copies].reset_index(drop=True)
        number = pd.Series(copies).groupby(copies).cumcount().to_numpy()
        base = table["path"].astype(str) if table["path"].notna().all() else pd.Series(copies).astype(str).radd("image")
        table["path"] = [f"{p}#{n}" for p, n in zip(base, number)]
        return LoadedData(table, self.classes, self.label_ids[copies], self.images, self.excluded, self.counts,
                          image_index=np.asarray(copies))


def restrict_classes(result: DatasetTable, classes: list[str], name: str) -> DatasetTable:
    """Keep only ``classes`` (in that order); a requested class with no images is an error."""
    present = set(result.table["label"])
    empty = [c for c in classes if c not in present]
    if empty:
        raise DatasetError(
            f"{name}: class {', '.join(map(repr, empty))} has no images; "
            f"classes present: {', '.join(sorted(present))}"
        )
    kept = result.table[result.table["label"].isin(classes)].reset_index(drop=True)
    return DatasetTable(kept, result.excluded)


def load_data(
    data: DataConfig, cache_dir: Path | None = None, classes: list[str] | None = None, shared_only: bool = False
) -> LoadedData:
    """Read, restrict, crop and decode the dataset a ``data`` section describes.

    ``classes`` overrides the section's own class list and fixes the label ids (a test set
    scored by a trained model uses the model's classes); with ``shared_only`` only the
    classes this dataset actually has are kept (e.g. FACES has no surprise).
    """
    options = dict(data.options)
    if data.strict:
        options.setdefault("strict", True)
    result = read_dataset(data.dataset, data.root, **options)
    before = result.table
    classes = classes or resolve_classes(data.classes, before["label"].unique())
    wanted = [c for c in classes if c in set(before["label"])] if shared_only else classes
    if not wanted:
        raise DatasetError(f"{data.label}: shares no class with {', '.join(classes)}")
    result = restrict_classes(result, wanted, data.dataset)
    excluded = result.excluded
    table = result.table
    if data.face_crop.enabled:
        table, no_face = crop_table(table, data.face_crop, cache_dir=cache_dir)
        excluded = pd.concat([excluded, no_face], ignore_index=True)
    table = table.reset_index(drop=True)
    images, decoded, undecodable = decode_or_exclude(table, data.image_size, data.color_mode, strict=data.strict)
    if len(undecodable):  # passed the quick header check, but OpenCV cannot decode it
        excluded = pd.concat([excluded, undecodable], ignore_index=True)
        table = table[decoded].reset_index(drop=True)
    label_ids = table["label"].map({name: i for i, name in enumerate(classes)}).to_numpy(np.int32)
    found = pd.concat([before, result.excluded])
    counts = counts_table(found[found["label"].isin(wanted)], table)
    return LoadedData(table.drop(columns=["image"], errors="ignore"), classes, label_ids, images, excluded, counts)

