"""Pretrained weight files: found on disk, else downloaded on first use as ``keras.applications`` does.

Each model knows the file its ImageNet weights come in (for a ``keras.applications``
backbone, the exact file Keras would download, and its URL: see ``BackboneSpec.weights_file``
in :mod:`fer_keras.models.architectures.backbones`). This module knows no model: given a file name, it
looks for that file, in order, in

1. the Keras cache, ``$KERAS_HOME/models`` (or ``~/.keras/models``), where
   ``keras.applications`` itself stores downloads;
2. the folder named by ``$FER_KERAS_WEIGHTS_DIR``.

(No folder is looked up relative to where the package is installed: a path beside the source
tree means nothing once the package sits in site-packages.)

When no folder holds it, the file is downloaded from its URL into the Keras cache with
``keras.utils.get_file`` (the ecosystem's convention: a progress bar, its hash checked when one
is known, nothing half-written left behind), unless ``$FER_KERAS_OFFLINE`` is set (``1``), which
never touches the network. ``weights: path/to/file.h5`` loads that file instead
(:func:`existing_weights_file`); ``weights: null`` means random initialisation and is handled by
the builders. A file that cannot be had (offline, no network, a failed or corrupt download)
raises :class:`ModelError` with one line: the file name, its download URL and where to put it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras

from fer_keras.errors import ModelError

#: Environment variable naming an extra folder of weight files.
WEIGHTS_DIR_ENV = "FER_KERAS_WEIGHTS_DIR"
#: Environment variable that, set (to anything but empty or 0), forbids downloads.
OFFLINE_ENV = "FER_KERAS_OFFLINE"


def keras_cache_dir() -> Path:
    """``$KERAS_HOME/models``, else ``~/.keras/models`` (where keras.applications caches downloads)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def search_dirs() -> list[Path]:
    """The folders searched for a weights file, in order."""
    folders = [keras_cache_dir()]
    if os.environ.get(WEIGHTS_DIR_ENV):
        folders.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    return folders


def existing_weights_file(path: str | os.PathLike) -> str:
    """``path`` (``~`` expanded) when it is a file; else a one-line :class:`ModelError`."""
    if not Path(path).expanduser().is_file():
        raise ModelError(f"weights file {str(path)!r} not found; give an existing .h5 file, 'imagenet' or null")
    return str(Path(path).expanduser())


def offline() -> bool:
    """Whether ``$FER_KERAS_OFFLINE`` forbids downloads."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def find_weights_file(owner: str, file_name: str, url: str | None, file_hash: str | None = None) -> str:
    """The first copy of ``file_name`` in :func:`search_dirs`, else the file downloaded into the Keras cache.

    ``owner`` names the model in the error; ``url`` is where the file can be downloaded
    (None: nobody publishes it); ``file_hash`` (sha256 or md5), when known, is checked after the
    download. Raises :class:`ModelError` (one line) when the file cannot be had.
    """
    for folder in search_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return str(candidate)
    where = (f"save it as {file_name} in ~/.keras/models/ (or $KERAS_HOME/models/) or in ${WEIGHTS_DIR_ENV}/; "
             f"searched {', '.join(str(d) for d in search_dirs())}")
    if url is None:
        raise ModelError(f"ImageNet weights for {owner} not found: Keras publishes none; convert ImageNet weights "
                         f"(e.g. torchvision's) into a Keras weights file and {where}")
    if offline():
        raise ModelError(f"ImageNet weights for {owner} not found and ${OFFLINE_ENV} forbids downloading: "
                         f"download {url} and {where}")
    return download_weights(owner, file_name, url, file_hash, where)


def download_weights(owner: str, file_name: str, url: str, file_hash: str | None, where: str) -> str:
    """``url`` downloaded into the Keras cache as ``file_name`` (``keras.utils.get_file``); one line on failure."""
    target = keras_cache_dir() / file_name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # else get_file falls back to /tmp/.keras
        return str(keras.utils.get_file(file_name, url, cache_subdir="models", cache_dir=str(keras_cache_dir().parent),
                                        file_hash=file_hash))
    except (Exception, KeyboardInterrupt) as error:
        target.unlink(missing_ok=True)  # a partial or corrupt file must not be found next time
        if isinstance(error, KeyboardInterrupt):
            raise
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise ModelError(f"ImageNet weights for {owner}: downloading {url} failed ({reason}); download it by hand "
                         f"and {where}") from None


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
