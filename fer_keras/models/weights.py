"""ImageNet weights, found offline: never downloads anything.

``weights: imagenet`` names the exact file ``keras.applications`` would download for a
backbone (e.g. ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``) and looks for it, in
order, in

1. the Keras cache, ``$KERAS_HOME/models`` (or ``~/.keras/models``), where
   ``keras.applications`` itself stores downloads;
2. the folder named by ``$FER_KERAS_WEIGHTS_DIR``;
3. ``../shared/weights/`` next to the repository, when that folder exists.

``weights: path/to/file.h5`` loads that file instead; ``weights: null`` means random
initialisation and is handled by the builders. A missing file raises :class:`ModelError`
with one line: the file name Keras expects, its download URL and where to put it.
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

_TF = "https://storage.googleapis.com/tensorflow/keras-applications/"
_TF_KERNELS = "_weights_tf_dim_ordering_tf_kernels"

#: model name -> (URL folder, file stem); the file is stem + ".h5" or stem + "_notop.h5".
_STANDARD_FILES: dict[str, tuple[str, str]] = {
    "vgg16": (f"{_TF}vgg16/", f"vgg16{_TF_KERNELS}"),
    "vgg19": (f"{_TF}vgg19/", f"vgg19{_TF_KERNELS}"),
    "inception_v3": (f"{_TF}inception_v3/", f"inception_v3{_TF_KERNELS}"),
    **{name: (f"{_TF}resnet/", f"{name}{_TF_KERNELS}") for name in (
        "resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2", "resnet152v2")},
    **{name: (f"{_TF}densenet/", f"{name}{_TF_KERNELS}") for name in (
        "densenet121", "densenet169", "densenet201")},
    "efficientnetb0": ("https://storage.googleapis.com/keras-applications/", "efficientnetb0"),
}

#: MobileNetV2 weights exist for these width multipliers and input sizes only.
MOBILENET_V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
MOBILENET_V2_ROWS = (96, 128, 160, 192, 224)

#: Backbones built here, for which Keras publishes no ImageNet weights.
_NO_KERAS_DOWNLOAD = ("resnet18", "resnet34")


def keras_weights_file(model_name: str, include_top: bool = False, alpha: float = 1.0, rows: int = 224) -> tuple[str, str | None]:
    """The file name ``keras.applications`` uses for a model's ImageNet weights, and its URL.

    ``alpha`` and ``rows`` matter for ``mobilenet_v2`` only; like Keras, an input size
    without published weights uses the 224 px file. The URL is ``None`` for the ResNet18/34
    built here (no official Keras file exists).
    """
    if model_name in _STANDARD_FILES:
        folder, stem = _STANDARD_FILES[model_name]
        file_name = f"{stem}.h5" if include_top else f"{stem}_notop.h5"
        return file_name, folder + file_name
    if model_name == "mobilenet_v2":
        if float(alpha) not in MOBILENET_V2_ALPHAS:
            raise ModelError(
                f"mobilenet_v2: ImageNet weights exist only for alpha in {list(MOBILENET_V2_ALPHAS)}, got {alpha}"
            )
        size = rows if rows in MOBILENET_V2_ROWS else 224
        tail = f"_{float(alpha)}_{size}.h5" if include_top else f"_{float(alpha)}_{size}_no_top.h5"
        file_name = f"mobilenet_v2{_TF_KERNELS}{tail}"
        return file_name, f"{_TF}mobilenet_v2/{file_name}"
    if model_name in _NO_KERAS_DOWNLOAD:
        return f"{model_name}_imagenet{'' if include_top else '_notop'}.weights.h5", None
    known = sorted([*_STANDARD_FILES, "mobilenet_v2", *_NO_KERAS_DOWNLOAD])
    raise ModelError(f"no ImageNet weights are known for model {model_name!r}; known: {', '.join(known)}")


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


def resolve_imagenet_weights(
    model_name: str,
    include_top: bool = False,
    path: str | os.PathLike | None = None,
    alpha: float = 1.0,
    rows: int = 224,
) -> str:
    """A local weights file for ``model_name``: ``path`` if given, else the first cached copy.

    Raises :class:`ModelError` (one line) when ``path`` does not exist or no folder holds
    the file Keras expects.
    """
    if path is not None:
        if not Path(path).expanduser().is_file():
            raise ModelError(f"weights file {str(path)!r} not found; give an existing .h5 file, 'imagenet' or null")
        return str(Path(path).expanduser())
    file_name, url = keras_weights_file(model_name, include_top, alpha=alpha, rows=rows)
    for folder in search_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return str(candidate)
    source = f"download {url}" if url else "Keras publishes none; convert ImageNet weights (e.g. torchvision's) into a Keras weights file"
    raise ModelError(
        f"ImageNet weights for {model_name} not found: {source} and save it as {file_name} "
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


def load_backbone_weights(
    backbone: keras.Model,
    model_name: str,
    weights: str | os.PathLike | None,
    alpha: float = 1.0,
    rows: int = 224,
) -> str | None:
    """Fill a headless backbone from ``weights`` (None, 'imagenet' or a path); returns the file used."""
    if weights is None:
        return None
    path = None if str(weights) == "imagenet" else weights
    resolved = resolve_imagenet_weights(model_name, include_top=False, path=path, alpha=alpha, rows=rows)
    load_weights_file(backbone, resolved)
    return resolved
