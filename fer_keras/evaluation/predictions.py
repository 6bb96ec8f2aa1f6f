"""Model outputs as a predictions table: one row per image, true and predicted class, probabilities.

A row's columns: ``fold``, then the four name fields that say which result the row belongs to,
then ``key``, ``subject``, ``true``, ``predicted``, ``correct`` and one ``prob_<class>`` per class.
The name fields (empty string when they do not apply):

- ``test_set``: the evaluated data's label, e.g. ``"jaffe"``, ``"kdef (val)"`` (validation part
  of a split without a test part), or a cross-dataset test's label;
- ``variant``: in a transfer run, ``"fine-tuned"`` or ``"scratch"``;
- ``method``: a classical baseline's ``"<classifier>+<feature>"``, e.g. ``"svm+hog"``;
- ``model``: in an ensemble run, ``"ensemble"`` (the averaged rows) or a member run's experiment.

Display names (``"jaffe · fine-tuned"``) are composed from these by
:func:`fer_keras.reports.names.display_name` only. Tables written before the name fields
existed hold ``test_set`` alone; :func:`with_name_fields` reads them with the others empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_keras.data.splits import sample_keys
from fer_keras.labels import PROB_PREFIX

#: The columns that name the result a row belongs to, in table order.
NAME_FIELDS = ("test_set", "variant", "method", "model")


def predict_probabilities(
    model, images: np.ndarray, indices: np.ndarray, batch_size: int, image_index=None, augmenter=None,
    flip: bool = False,
) -> np.ndarray:
    """Class probabilities of a Keras ``model`` for samples ``indices``, in order.

    ``image_index`` maps samples to rows of ``images`` (augmented copies); ``augmenter`` is
    applied when the evaluated samples are themselves augmented copies. ``flip`` averages with
    the probabilities of the mirrored images (``model.test_time_flip``).
    """
    import tensorflow as tf

    from fer_keras.data.pipeline import make_dataset

    count = len(images) if image_index is None else len(image_index)
    dataset = make_dataset(images, np.zeros(count, np.int32), batch_size, indices=indices,
                           image_index=image_index, augmenter=augmenter, deterministic=True).map(lambda x, y: x)
    probabilities = np.asarray(model.predict(dataset, verbose=0), dtype=np.float64)
    if flip:
        mirrored = model.predict(dataset.map(tf.image.flip_left_right), verbose=0)
        probabilities = (probabilities + np.asarray(mirrored, dtype=np.float64)) / 2.0
    return probabilities


def predictions_frame(
    table: pd.DataFrame,
    indices: np.ndarray,
    true_ids: np.ndarray,
    probabilities: np.ndarray,
    classes: list[str],
    fold: int,
    test_set: str,
    variant: str = "",
    method: str = "",
    model: str = "",
) -> pd.DataFrame:
    """The predictions table for ``table.iloc[indices]``, its rows named by the four name fields."""
    rows = table.iloc[indices]
    predicted = probabilities.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "fold": fold,
            "test_set": test_set,
            "variant": variant,
            "method": method,
            "model": model,
            "key": sample_keys(table)[indices],
            "subject": rows["subject"].astype(str).to_numpy(),
            "true": [classes[i] for i in true_ids],
            "predicted": [classes[i] for i in predicted],
        }
    )
    frame["correct"] = frame["true"] == frame["predicted"]
    for i, name in enumerate(classes):
        frame[f"{PROB_PREFIX}{name}"] = probabilities[:, i]
    return frame


def with_name_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every name field present, as text (missing or blank cells read as ``""``)."""
    frame = frame.copy()
    for name in NAME_FIELDS:
        if name not in frame.columns:
            present = [frame.columns.get_loc(f) for f in NAME_FIELDS if f in frame.columns]
            frame.insert(max(present) + 1 if present else len(frame.columns), name, "")
        frame[name] = frame[name].fillna("").astype(str)
    return frame
