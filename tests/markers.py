"""What test modules import from the suite itself: the repository root and skip markers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def haar_available() -> bool:
    from fer_keras.data.faces.detect import haar_available as available

    return available()


#: For tests of OpenCV's Haar cascade itself: OpenCV 5 wheels ship none (the MTCNN path is tested there).
requires_haar = pytest.mark.skipif(not haar_available(), reason="this OpenCV ships no Haar cascade (5.x wheels)")
