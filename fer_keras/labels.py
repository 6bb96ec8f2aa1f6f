"""Canonical expression classes and every dataset's code map, in one place.

Every reader maps its own codes to the canonical names below; everything downstream
(splits, models, reports) only ever sees canonical names. Class order is the order of
``CLASSES_7`` (plus ``contempt`` last when a dataset keeps 8 classes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fer_keras.errors import UnknownLabelError

ANGER = "anger"
DISGUST = "disgust"
FEAR = "fear"
HAPPINESS = "happiness"
SADNESS = "sadness"
SURPRISE = "surprise"
NEUTRAL = "neutral"
CONTEMPT = "contempt"

#: The six basic emotions (the attention paper's 6-class view: neutral dropped).
CLASSES_6: tuple[str, ...] = (ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE)
#: The six basic emotions plus neutral: the default 7-class view.
CLASSES_7: tuple[str, ...] = CLASSES_6 + (NEUTRAL,)
#: CK+'s eight classes when contempt is kept.
CLASSES_8: tuple[str, ...] = CLASSES_7 + (CONTEMPT,)

VIEWS: dict[str, tuple[str, ...]] = {"6": CLASSES_6, "7": CLASSES_7, "8": CLASSES_8}

#: Two-letter abbreviations used on confusion-matrix axes (as the papers print them).
ABBREVIATIONS: dict[str, str] = {
    ANGER: "AN",
    DISGUST: "DI",
    FEAR: "FE",
    HAPPINESS: "HA",
    SADNESS: "SA",
    SURPRISE: "SU",
    NEUTRAL: "NE",
    CONTEMPT: "CO",
}

#: JAFFE file-name codes (``KA.AN1.39.tiff``).
JAFFE_CODES: dict[str, str] = {
    "AN": ANGER,
    "DI": DISGUST,
    "FE": FEAR,
    "HA": HAPPINESS,
    "SA": SADNESS,
    "SU": SURPRISE,
    "NE": NEUTRAL,
}

#: FER2013 ``emotion`` column (0=Angry … 6=Neutral).
FER2013_INDICES: dict[int, str] = {
    0: ANGER,
    1: DISGUST,
    2: FEAR,
    3: HAPPINESS,
    4: SADNESS,
    5: SURPRISE,
    6: NEUTRAL,
}

#: FER2013 image-folder variant folder names (``train/angry/…``).
FER2013_FOLDERS: dict[str, str] = {
    "angry": ANGER,
    "disgust": DISGUST,
    "fear": FEAR,
    "happy": HAPPINESS,
    "sad": SADNESS,
    "surprise": SURPRISE,
    "neutral": NEUTRAL,
}

#: CK+ ``*_emotion.txt`` codes (0=neutral … 7=surprise), contempt kept as its own class.
CKPLUS_INDICES: dict[int, str] = {
    0: NEUTRAL,
    1: ANGER,
    2: CONTEMPT,
    3: DISGUST,
    4: FEAR,
    5: HAPPINESS,
    6: SADNESS,
    7: SURPRISE,
}

#: CK+48 folder names.
CKPLUS48_FOLDERS: dict[str, str] = {
    "anger": ANGER,
    "contempt": CONTEMPT,
    "disgust": DISGUST,
    "fear": FEAR,
    "happy": HAPPINESS,
    "sadness": SADNESS,
    "surprise": SURPRISE,
    "neutral": NEUTRAL,
}

#: KDEF expression codes inside ``AF01AFS.JPG`` (characters 5–6).
KDEF_CODES: dict[str, str] = {
    "AF": FEAR,
    "AN": ANGER,
    "DI": DISGUST,
    "HA": HAPPINESS,
    "NE": NEUTRAL,
    "SA": SADNESS,
    "SU": SURPRISE,
}

#: KDEF angle codes (last characters of the stem).
KDEF_ANGLES: dict[str, str] = {
    "FL": "full_left",
    "HL": "half_left",
    "S": "straight",
    "HR": "half_right",
    "FR": "full_right",
}

#: Oulu-CASIA folder names.
OULU_FOLDERS: dict[str, str] = {
    "Anger": ANGER,
    "Disgust": DISGUST,
    "Fear": FEAR,
    "Happiness": HAPPINESS,
    "Sadness": SADNESS,
    "Surprise": SURPRISE,
}

#: FACES file-name emotion codes (``004_o_m_a_a.jpg``: a=anger, d=disgust, …).
FACES_CODES: dict[str, str] = {
    "a": ANGER,
    "d": DISGUST,
    "f": FEAR,
    "h": HAPPINESS,
    "s": SADNESS,
    "n": NEUTRAL,
}


#: Words redistributors use for class folders (``1 - Happy``, ``angry``, ``Sadness``), lower case.
CLASS_WORDS: dict[str, str] = {
    "anger": ANGER, "angry": ANGER, "an": ANGER,
    "disgust": DISGUST, "disgusted": DISGUST, "di": DISGUST,
    "fear": FEAR, "afraid": FEAR, "fearful": FEAR, "fe": FEAR,
    "happiness": HAPPINESS, "happy": HAPPINESS, "ha": HAPPINESS,
    "sadness": SADNESS, "sad": SADNESS, "sa": SADNESS,
    "surprise": SURPRISE, "surprised": SURPRISE, "su": SURPRISE,
    "neutral": NEUTRAL, "ne": NEUTRAL,
    "contempt": CONTEMPT, "co": CONTEMPT,
}


def class_of_folder(name: str) -> str | None:
    """The canonical class a class-folder name stands for (``"3 - Surprise"`` → surprise), or None."""
    word = name.strip().lower().lstrip("0123456789").strip(" -_.")
    return CLASS_WORDS.get(word)


def lookup(code_map: dict, code, dataset: str, where: str = "") -> str:
    """Map one dataset code to its canonical class, or raise one clear error."""
    try:
        return code_map[code]
    except KeyError:
        known = ", ".join(str(k) for k in code_map)
        place = f" in {where}" if where else ""
        raise UnknownLabelError(
            f"{dataset}: unknown emotion code {code!r}{place}; known codes: {known}"
        ) from None


def merge_contempt(label: str) -> str:
    """Relabel contempt as disgust (the cross-dataset paper's CK+ protocol)."""
    return DISGUST if label == CONTEMPT else label


def resolve_classes(classes: str | Sequence[str] | None, present: Iterable[str] = ()) -> list[str]:
    """Turn a config ``classes`` value into an ordered list of canonical classes.

    ``None`` keeps the classes present in the data, in canonical order; ``"6"``/``"7"``/``"8"``
    pick a view; a list keeps its order and is checked: every name must be a canonical class or
    one the data has (a folder reader's own label names), and none may repeat.
    """
    if classes is None:
        return canonical_order(present)
    if isinstance(classes, str):
        if classes not in VIEWS:
            raise UnknownLabelError(f"classes: unknown view {classes!r}; use one of 6, 7, 8 or a list")
        return list(VIEWS[classes])
    classes = [str(c) for c in classes]
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        raise UnknownLabelError(f"classes: {', '.join(repeated)} listed more than once")
    known = set(CLASSES_8) | set(present)
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise UnknownLabelError(f"classes: unknown class {', '.join(map(repr, unknown))}; "
                                f"use names from {', '.join(canonical_order(known))}")
    return classes


def canonical_order(names: Iterable[str]) -> list[str]:
    """Sort class names canonically; names outside the canonical set follow, alphabetically."""
    names = set(names)
    known = [c for c in CLASSES_8 if c in names]
    return known + sorted(names - set(CLASSES_8))


def abbreviation(name: str) -> str:
    """Two-letter axis label for a class (custom classes: first two letters, upper case)."""
    return ABBREVIATIONS.get(name, name[:2].upper())


# --- class order of a predictions table (its prob_<class> columns) ---------------------------

#: Prefix of a predictions table's probability columns: ``prob_<class>``, in class order.
PROB_PREFIX = "prob_"


def probability_columns(frame) -> list[str]:
    """The probability columns of a predictions table (any object with ``columns``), in class order."""
    return [c for c in frame.columns if c.startswith(PROB_PREFIX)]


def classes_of(frame) -> list[str]:
    """The class order a predictions table was written with."""
    return [c.removeprefix(PROB_PREFIX) for c in probability_columns(frame)]
