"""Why a ``.keras`` file did not load, as one line for the user (shared by predict, export and init_from)."""

from __future__ import annotations

from pathlib import Path


def load_failure(path: str | Path, error: BaseException) -> str:
    """The one-line reason ``keras.models.load_model(path)`` failed with ``error``.

    A file holding Python code (a ``Lambda`` layer) is refused by Keras' safe mode: that is said
    plainly, with what a user who trusts the file can do.
    """
    text = str(error).strip()
    if "safe_mode" in text or "unsafe_deserialization" in text:
        return (f"cannot load {path}: it holds Python code (a Lambda layer), which Keras' safe mode refuses "
                "to run; if you trust its source, load it with keras.models.load_model(path, safe_mode=False) "
                "and save it again without the Lambda layer")
    return f"cannot load {path}: {text.splitlines()[0] if text else type(error).__name__}"
