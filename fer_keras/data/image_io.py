"""Image files: which extensions count, the header/decode check, decoding one file with OpenCV.

:func:`read_image` decodes any file OpenCV reads (JAFFE's ``.tiff``, ``.png``,
``.jpg``/``.JPG``/``.jpeg``, ``.bmp``) to a uint8 ``H×W×C`` array in RGB (or ``H×W×1`` for
grayscale). :func:`check_image` returns ``None`` for a usable file or a short reason
(``empty file``, ``unreadable``, ``truncated``, ``unsupported format``).

Checking cost: readers call :func:`check_image` once per file they keep. The default
``check="header"`` reads the file's bytes but decodes only TIFF/BMP; for JPEG and PNG it
looks at the signature and the end marker (``FFD9`` / ``IEND``), which catches empty,
garbage and truncated files without decoding (≈0.1 ms a file; FACES' 2,052 large JPEGs
would take minutes to decode). ``check="decode"`` decodes every file (CK+'s ~10k PNGs:
a few seconds); ``check="none"`` trusts the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from fer_keras.errors import ImageError

#: File extensions readers treat as images (compared lower-case).
IMAGE_EXTENSIONS = frozenset({".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"})
#: How much checking readers do per file (see the module docstring).
CHECK_MODES = ("header", "decode", "none")

_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"BM": "bmp",
}


def is_image_file(path: str | os.PathLike) -> bool:
    """True for a non-hidden file whose extension is an image format readers accept."""
    path = Path(path)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _format(data: bytes) -> str | None:
    for signature, name in _SIGNATURES.items():
        if data.startswith(signature):
            return name
    return None


def _truncation(data: bytes, kind: str) -> str | None:
    tail = data[-512:]
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        return "truncated (no JPEG end marker)"
    if kind == "png" and b"IEND" not in tail:
        return "truncated (no PNG IEND chunk)"
    return None


def _decode(data: bytes) -> np.ndarray | None:
    """Decode with OpenCV's own log quiet (a broken file is reported by our reason, not by libtiff).

    JPEGs are turned upright by their EXIF orientation (a phone's portrait photo is stored sideways
    with ``Orientation = 6``); ``IMREAD_UNCHANGED`` would ignore it, so JPEGs, which have no alpha
    or 16-bit depth to keep, are decoded with ``IMREAD_ANYCOLOR`` (grayscale stays one channel).
    """
    flags = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH if _format(data[:16]) == "jpeg" else cv2.IMREAD_UNCHANGED
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if image is None or image.size == 0:
        return None
    return image


def _to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return image[..., None]
    if image.shape[-1] == 1:
        return image
    if image.shape[-1] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _problem(path: Path, data: bytes | None) -> str | None:
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"unsupported format {path.suffix or '(no extension)'!r}"
    if data is None:
        return "unreadable (cannot open file)"
    if not data:
        return "empty file"
    kind = _format(data)
    if kind is None:
        return "unreadable (not a TIFF, PNG, JPEG or BMP file)"
    return _truncation(data, kind)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def check_image(path: str | os.PathLike, decode: bool = False) -> str | None:
    """``None`` when ``path`` looks usable, else the reason it is not.

    Without ``decode``, JPEG and PNG files are judged by their first and last bytes
    (signature, end marker) without reading the whole file; TIFF and BMP files, which
    have no end marker, are always decoded.
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return _problem(path, b"")
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(16)
            if not decode and size > 0 and _format(head) in {"jpeg", "png"}:
                handle.seek(max(0, size - 512))
                return _problem(path, head + handle.read())
            data = head + handle.read()
    except OSError:
        data = None
    reason = _problem(path, data)
    if reason is None and _decode(data) is None:
        return "unreadable (OpenCV cannot decode it)"
    return reason


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` to uint8 ``H×W×3`` RGB or ``H×W×1`` grayscale; raise :class:`ImageError`.

    16-bit images are scaled to 0..255 (÷257), other depths min-max; an alpha channel is dropped.
    """
    path = Path(path)
    data = _read_bytes(path)
    reason = _problem(path, data)
    if reason is not None:
        raise ImageError(path, reason)
    image = _decode(data)
    if image is None:
        raise ImageError(path, "unreadable (OpenCV cannot decode it)")
    return _to_uint8_rgb(image)
