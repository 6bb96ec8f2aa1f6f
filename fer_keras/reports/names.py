"""Display names of results, the one place they are composed from a row's name fields.

``model · test_set · variant · method``, empty fields left out: ``"jaffe"``,
``"jaffe · fine-tuned"``, ``"kdef · svm+hog"``, ``"ensemble · fer2013"``,
``"fer2013_model1 · fer2013"``. Reports, ``metrics.json`` keys and the config's
``report.paper.accuracy`` keys use these names; the fields are described in
:mod:`fer_keras.evaluation.predictions`.
"""

from __future__ import annotations

import pandas as pd

from fer_keras.evaluation.predictions import NAME_FIELDS, with_name_fields

SEPARATOR = " · "


def display_name(test_set: str, variant: str = "", method: str = "", model: str = "") -> str:
    """The name a report shows for one result."""
    return SEPARATOR.join(part for part in (model, test_set, variant, method) if part)


def display_names(frame: pd.DataFrame) -> pd.Series:
    """Each row's display name (rows written without some name fields read them as empty)."""
    fields = with_name_fields(frame)[list(NAME_FIELDS)]
    return pd.Series([display_name(*row) for row in fields.itertuples(index=False, name=None)],
                     index=frame.index, dtype=str)


def displayed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a report shows it: ``test_set`` holds the display name, the other name fields dropped."""
    shown = frame.drop(columns=[f for f in NAME_FIELDS[1:] if f in frame.columns])
    shown["test_set"] = display_names(frame)
    return shown
