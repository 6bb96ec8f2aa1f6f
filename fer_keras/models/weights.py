"""Pretrained weight files, found offline: never downloads anything.

Each model knows the file its ImageNet weights come in (for a ``keras.applications``
backbone, the exact file Keras would download, and its URL: see ``BackboneSpec.weights_file``
in :mod:`fer_keras.models.backbones`). This module knows no model: given a file name, it
looks for that file, in order, in

1. the Keras cache, ``$KERAS_HOME/models`` (or ``~/.keras/models``), where
   ``keras.applications`` itself stores downloads;
2. the folder named by ``$FER_KERAS_WEIGHTS_DIR``;
3. ``../shared/weights/`` next to the repository, when that folder exists.

``weights: path/to/file.h5`` loads that file instead (:func:`existing_weights_file`);
``weights: null`` means random initialisation and is handled by the builders. A missing file
raises :class:`ModelError` with one line: the file name, its download URL and where to put it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras

from fer_keras.models.registry import ModelError

#: Environment variable naming an extra folder of weight files.
WEIGHTS_DIR_ENV = "FER_KERAS_WEIGHTS_DIR"
#: ``../shared/weights`` relative to the repository root.
SHARED_WEIGHTS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "weights"

def keras_cache_dir() -> Path:
    """``$KERAS_HOME/models``, else ``~/.keras/models`` (where keras.applications caches downloads)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def search_dirs() -> list[Path]:
    """The folders searched for a weights file, in order."""
    folders = [keras_cache_dir()]
    if os.environ.get(WEIGHTS_DIR_ENV):
        folders.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    if SHARED_WEIGHTS_DIR.is_dir():
        folders.append(SHARED_WEIGHTS_DIR)
    return folders


def existing_weights_file(path: str | os.PathLike) -> str:
    """``path`` (``~`` expanded) when it is a file; else a one-line :class:`ModelError`."""
    if not Path(path).expanduser().is_file():
        raise ModelError(f"weights file {str(path)!r} not found; give an existing .h5 file, 'imagenet' or null")
    return str(Path(path).expanduser())


def find_weights_file(owner: str, file_name: str, url: str | None) -> str:
    """The first copy of ``file_name`` in :func:`search_dirs`; never downloads.

    ``owner`` names the model in the error; ``url`` is where the file can be downloaded
    (None: nobody publishes it). Raises :class:`ModelError` (one line) when no folder holds it.
    """
    for folder in search_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return str(candidate)
    source = f"download {url}" if url else "Keras publishes none; convert ImageNet weights (e.g. torchvision's) into a Keras weights file"
    raise ModelError(
        f"ImageNet weights for {owner} not found: {source} and save it as {file_name} "
        f"in ~/.keras/models/ (or $KERAS_HOME/models/) or in ${WEIGHTS_DIR_ENV}/; "
        f"searched {', '.join(str(d) for d in search_dirs())}"
    )


def load_weights_file(model: keras.Model, path: str | os.PathLike) -> None:
    """Load a weights file into ``model``; a failure becomes one :class:`ModelError` line.

    Accepts the legacy ``.h5`` files keras.applications downloads (and ``model.save('x.h5')``
    files), which load by layer order, and Keras 3 ``.weights.h5`` / ``.keras`` files, which
    load by layer name. A file that fills only part of the model is an error too.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(path))
        except Exception as error:  # Keras raises ValueError, KeyError, OSError... for a wrong file
            reason = " ".join(str(error).split())[:300]
            raise ModelError(f"cannot load weights {str(path)!r} into {model.name}: {reason}") from None
    skipped = [w for w in caught if "Skipping" in str(w.message)]
    if skipped:  # Keras 3 files skip unmatched layers with only a warning; a partial load is an error here
        reason = " ".join(str(skipped[0].message).split())[:200]
        raise ModelError(f"weights {str(path)!r} do not match {model.name} ({len(skipped)} parts skipped): {reason}")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
