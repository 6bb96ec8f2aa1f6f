"""Shared test fixtures: tiny synthetic data, the real-data folder when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# no test touches the real network: weight downloads are off (the download tests serve files on loopback)
os.environ["FER_KERAS_OFFLINE"] = "1"

from tests.markers import REPO  # noqa: E402  (after the environment the imports below it read)

SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real datasets folder (../shared/datasets); skips the test when absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip("real datasets folder ../shared/datasets is absent")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def ckplus48_root(shared_datasets: Path) -> Path:
    """The real CK+48 folder; skips the test when absent."""
    root = shared_datasets / "CK+48"
    if not root.is_dir():
        pytest.skip("CK+48 is absent from ../shared/datasets")
    return root


def _real(shared_datasets: Path, name: str) -> Path:
    root = shared_datasets / name
    if not root.is_dir():
        pytest.skip(f"{name} is absent from ../shared/datasets")
    return root


@pytest.fixture(scope="session")
def fer2013_root(shared_datasets: Path) -> Path:
    """The real FER2013 image folders (train/, test/); skips the test when absent."""
    return _real(shared_datasets, "FER2013")


@pytest.fixture(scope="session")
def jaffe_root(shared_datasets: Path) -> Path:
    """The real JAFFE redistribution (Data/<n - Class>/); skips the test when absent."""
    return _real(shared_datasets, "JAFFE")


@pytest.fixture(scope="session")
def kdef_subset_root(shared_datasets: Path) -> Path:
    """The 82 real KDEF photos in one flat folder (KDEF_subset/); skips the test when absent."""
    return _real(shared_datasets, "KDEF_subset")


@pytest.fixture
def stub_detector(monkeypatch):
    """``stub_detector(detect)``: both detectors return ``detect(image, min_size)``'s boxes.

    Tests of what happens after detection use it, so they hold whichever detector ``auto``
    resolves to on this OpenCV (Haar on 4.x, MTCNN on 5.x).
    """
    from fer_keras.data.faces import detect as face_detect
    from fer_keras.data.faces.detect import Detection

    def install(detect):
        monkeypatch.setattr(face_detect, "detect_faces", detect)
        monkeypatch.setattr(face_detect, "detect_mtcnn", lambda image, min_size=20, confidence=0.9, relative=True, first_pass=True:
                            [Detection(tuple(int(v) for v in box)) for box in detect(image, min_size)])
        return detect

    return install
