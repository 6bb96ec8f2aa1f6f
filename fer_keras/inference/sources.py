"""What an input to predict is: an image, a folder, a video file or a camera index (no heavy imports)."""

from __future__ import annotations

from pathlib import Path

from fer_keras.errors import InferenceError

IMAGE, FOLDER, VIDEO, CAMERA = "image", "folder", "video", "camera"
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})


def is_camera(text: str) -> bool:
    """A camera index is given as digits (``0``, ``1``…)."""
    return str(text).isdigit()


def is_video_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def input_kind(text: str) -> str:
    """image | folder | video | camera; a one-line error for a missing or unknown input."""
    from fer_keras.data.image_io import is_image_file  # OpenCV: loaded when an input is checked, not on import

    if is_camera(text):
        return CAMERA
    path = Path(text)
    if not path.exists():
        raise InferenceError(f"input {text} does not exist; give an image, a folder, a video file or a camera index")
    if path.is_dir():
        return FOLDER
    if is_image_file(path):
        return IMAGE
    if is_video_file(path):
        return VIDEO
    raise InferenceError(
        f"input {text} is not an image (.png .jpg .jpeg .bmp .tif .tiff) or a video ({' '.join(sorted(VIDEO_EXTENSIONS))})"
    )
