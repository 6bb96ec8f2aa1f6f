"""Tiny datasets written in each publisher's real layout, for reader (and pipeline) tests.

Every ``make_*`` writes synthetic faces (:func:`fer_keras.data.readers.synthetic.draw_face`) under
the real file names and label files below ``tmp_path`` and returns the folder (or CSV) a
user would give as ``data.root``. :func:`corrupt` breaks one file in a chosen way.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fer_keras.data.readers.synthetic import draw_face
from fer_keras.labels import (
    CKPLUS48_FOLDERS,
    CKPLUS_INDICES,
    CONTEMPT,
    DISGUST,
    FACES_CODES,
    FER2013_FOLDERS,
    FER2013_INDICES,
    JAFFE_CODES,
    KDEF_ANGLES,
    KDEF_CODES,
    OULU_FOLDERS,
)

IMAGE_SIZE = 48
JAFFE_SUBJECTS = ("KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM")
FER2013_USAGES = ("Training", "PublicTest", "PrivateTest")


def face(rng: np.random.Generator, label: str, color_mode: str = "grayscale", size: int = IMAGE_SIZE) -> np.ndarray:
    """A synthetic face for ``label`` (contempt, which synthetic faces lack, is drawn as disgust)."""
    return draw_face(rng, DISGUST if label == CONTEMPT else label, size, color_mode)


def write_image(path: Path, image: np.ndarray) -> Path:
    """Write an RGB or grayscale uint8 array in the format of ``path``'s extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.ndim == 3 and image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(path.suffix.lower(), image)
    assert ok, f"cannot encode {path}"
    path.write_bytes(encoded.tobytes())
    return path


def corrupt(path: Path, kind: str) -> Path:
    """Break an image file: ``empty`` (0 bytes), ``truncated`` (first half) or ``garbage`` bytes."""
    data = path.read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    else:
        raise ValueError(f"unknown corruption {kind!r}")
    return path


def make_jaffe(tmp_path: Path, subjects: int = 3, repeats: int = 1, seed: int = 0) -> Path:
    """``jaffe/KA.AN1.39.tiff``: ``subjects`` × 7 codes × ``repeats`` grayscale TIFFs."""
    rng = np.random.default_rng(seed)
    folder = tmp_path / "jaffe"
    number = 1
    for subject in JAFFE_SUBJECTS[:subjects]:
        for code, label in JAFFE_CODES.items():
            for repeat in range(1, repeats + 1):
                write_image(folder / f"{subject}.{code}{repeat}.{number}.tiff", face(rng, label))
                number += 1
    (folder / "README").write_text("The Japanese Female Facial Expression (JAFFE) Database\n")
    return folder


#: The redistributed JAFFE's class folders (``Data/3 - Surprise/…``).
JAFFE_CLASS_FOLDERS = {"HA": "1 - Happy", "SA": "2 - Sad", "SU": "3 - Surprise", "DI": "4 - Disgust",
                       "FE": "5 - Fear", "AN": "6 - Anger", "NE": "7 - Neutral"}


def make_jaffe_class_folders(tmp_path: Path, subjects: int = 3, seed: int = 0) -> Path:
    """The common redistribution: the flat fixture's files moved to ``JAFFE/Data/<n - Class>/``,
    plus the redistributor's stray JPEG copy of one TIFF. Returns ``JAFFE/``."""
    flat = make_jaffe(tmp_path / "flat", subjects=subjects, seed=seed)
    root = tmp_path / "JAFFE"
    for path in sorted(flat.glob("*.tiff")):
        target = root / "Data" / JAFFE_CLASS_FOLDERS[path.name.split(".")[1][:2]] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    stray = next((root / "Data" / "3 - Surprise").glob("*.tiff"))
    image = cv2.imread(str(stray), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(stray.with_suffix(".jpg")), image)
    return root


def make_fer2013_csv(tmp_path: Path, per_usage: dict[str, int] | None = None, seed: int = 0) -> Path:
    """``fer2013/fer2013.csv``: for each Usage, ``per_usage[usage]`` rows of every emotion 0–6."""
    per_usage = per_usage or {"Training": 2, "PublicTest": 1, "PrivateTest": 1}
    rng = np.random.default_rng(seed)
    records = [
        {"emotion": code, "pixels": " ".join(map(str, face(rng, label).ravel())), "Usage": usage}
        for usage, count in per_usage.items()
        for code, label in FER2013_INDICES.items()
        for _ in range(count)
    ]
    path = tmp_path / "fer2013" / "fer2013.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(records, columns=["emotion", "pixels", "Usage"]).to_csv(path, index=False)
    return path


def make_fer2013_folders(tmp_path: Path, per_class: int = 2, splits=("train", "test"), seed: int = 0) -> Path:
    """``fer2013/train/angry/im0.png`` …: ``per_class`` images of each class in each split."""
    rng = np.random.default_rng(seed)
    root = tmp_path / "fer2013"
    for split in splits:
        for folder, label in FER2013_FOLDERS.items():
            for index in range(per_class):
                write_image(root / split / folder / f"im{index}.png", face(rng, label))
    return root


def make_fer2013_kaggle_folders(tmp_path: Path, per_class: int = 2, seed: int = 0) -> Path:
    """The common Kaggle image-folder copy: ``train/<class>/Training_<id>.jpg`` and, mixed in
    ``test/<class>/``, ``PublicTest_<id>.jpg`` and ``PrivateTest_<id>.jpg`` (``per_class`` of each)."""
    rng = np.random.default_rng(seed)
    root = tmp_path / "FER2013"
    number = 1000
    for folder, label in FER2013_FOLDERS.items():
        for split, prefix in (("train", "Training"), ("test", "PublicTest"), ("test", "PrivateTest")):
            for _ in range(per_class):
                write_image(root / split / folder / f"{prefix}_{number}.jpg", face(rng, label))
                number += 7
    return root


def ckplus_label_text(code: int) -> str:
    """An ``*_emotion.txt`` body exactly as CK+ writes it."""
    return f"   {float(code):.7e}\n"


def make_ckplus_original(
    tmp_path: Path,
    subjects: int = 2,
    frames: int = 4,
    codes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7),
    unlabelled: int = 1,
    seed: int = 0,
) -> Path:
    """``CK+/cohn-kanade-images/S005/001/S005_001_0000000k.png`` + ``CK+/Emotion/…_emotion.txt``.

    Each subject has one labelled sequence per code in ``codes`` (``frames`` frames each;
    the label file names the last one) and ``unlabelled`` sequences whose Emotion folder is
    empty, as in the real release.
    """
    rng = np.random.default_rng(seed)
    root = tmp_path / "CK+"
    for s in range(subjects):
        subject = f"S{5 + s * 5:03d}"
        for q in range(len(codes) + unlabelled):
            sequence = f"{q + 1:03d}"
            label = CKPLUS_INDICES[codes[q]] if q < len(codes) else "neutral"
            for f in range(1, frames + 1):
                name = f"{subject}_{sequence}_{f:08d}.png"
                write_image(root / "cohn-kanade-images" / subject / sequence / name, face(rng, label))
            emotion_folder = root / "Emotion" / subject / sequence
            emotion_folder.mkdir(parents=True, exist_ok=True)
            if q < len(codes):
                label_file = emotion_folder / f"{subject}_{sequence}_{frames:08d}_emotion.txt"
                label_file.write_text(ckplus_label_text(codes[q]))
    return root


def make_ckplus48(tmp_path: Path, per_class: dict[str, int] | None = None, frames: int = 3, seed: int = 0) -> Path:
    """``CK+48/<class>/S010_004_00000017.png``: ``per_class[folder]`` sequences × ``frames`` last frames."""
    per_class = per_class or {name: 1 for name in CKPLUS48_FOLDERS if name != "neutral"}
    rng = np.random.default_rng(seed)
    root = tmp_path / "CK+48"
    subject = 10
    for folder, sequences in per_class.items():
        for _ in range(sequences):
            for f in range(frames):
                name = f"S{subject:03d}_004_{17 + f:08d}.png"
                write_image(root / folder / name, face(rng, CKPLUS48_FOLDERS[folder]))
            subject += 1
    return root


def make_kdef(
    tmp_path: Path,
    people: tuple[str, ...] = ("AF01", "AM02", "BF01"),
    angles: tuple[str, ...] = tuple(KDEF_ANGLES),
    seed: int = 0,
    layout: str = "person",
) -> Path:
    """Every expression × ``angles`` for each of ``people``, laid out as

    - ``person``: the publisher's ``KDEF_and_AKDEF/KDEF/AF01/AF01AFS.JPG``;
    - ``flat``: one folder of lower-case ``KDEF/af01afs.jpg``-style names (``AF01AFS.jpg``), as redistributed;
    - ``class``: ``KDEF/<class>/AF01AFS.jpg`` class folders.
    """
    rng = np.random.default_rng(seed)
    root = tmp_path / "KDEF_and_AKDEF" / "KDEF"
    for person in people:
        for code, label in KDEF_CODES.items():
            for angle in angles:
                name = f"{person}{code}{angle}"
                path = {"person": root / person / f"{name}.JPG", "flat": root / f"{name}.jpg",
                        "class": root / label / f"{name}.jpg"}[layout]
                write_image(path, face(rng, label, "rgb"))
    return root.parent


def make_oulu(
    tmp_path: Path,
    subjects: int = 2,
    frames: int = 4,
    modalities: tuple[str, ...] = ("VL",),
    illuminations: tuple[str, ...] = ("Strong",),
    seed: int = 0,
) -> Path:
    """``Oulu-CASIA/OriginalImg/VL/Strong/P001/Anger/000.jpeg``: one sequence per subject and class."""
    rng = np.random.default_rng(seed)
    root = tmp_path / "Oulu-CASIA"
    for modality in modalities:
        for illumination in illuminations:
            for s in range(1, subjects + 1):
                for folder, label in OULU_FOLDERS.items():
                    for f in range(frames):
                        path = root / "OriginalImg" / modality / illumination / f"P{s:03d}" / folder / f"{f:03d}.jpeg"
                        write_image(path, face(rng, label, "rgb"))
    return root


def make_faces(
    tmp_path: Path,
    people: tuple[tuple[str, str, str], ...] = (("004", "o", "m"), ("066", "y", "f"), ("140", "m", "f")),
    sets: tuple[str, ...] = ("a", "b"),
    seed: int = 0,
) -> Path:
    """``FACES/004_o_m_a_a.jpg``: each (id, age group, gender) person × 6 emotions × ``sets``."""
    rng = np.random.default_rng(seed)
    root = tmp_path / "FACES"
    for person, age, gender in people:
        for code, label in FACES_CODES.items():
            for picture_set in sets:
                write_image(root / f"{person}_{age}_{gender}_{code}_{picture_set}.jpg", face(rng, label, "rgb"))
    return root


def make_class_folders(
    tmp_path: Path, per_class: dict[str, int] | None = None, ext: str = ".png", seed: int = 0
) -> Path:
    """``classes/<folder>/<folder>_<k>.png``: ``per_class[folder]`` images per folder (any names)."""
    per_class = per_class or {"Happy": 2, "angry": 2, "sad": 1}
    rng = np.random.default_rng(seed)
    root = tmp_path / "classes"
    for folder, count in per_class.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            write_image(root / folder / f"{folder.lower()}_{k}{ext}", face(rng, "happiness"))
    return root
