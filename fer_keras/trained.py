"""A trained model by the names every command takes, and loading it: one resolver, one loader.

``pretrained`` (or no name) is the FER2013 model that ships in ``fer_keras/pretrained/fer2013/``,
laid out as a finished run; a run folder means its fold-0 model (``model_fold0.keras``, else its
first model file, else its one ``.keras`` file); a ``.keras`` file is itself. Predict, export,
``model.init_from`` and ``transfer.source_model`` resolve names with :func:`resolve_model` and
:func:`model_file_in`, and load with :func:`load_keras_file`, so they agree on what a name means
and say a failure the same way.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from fer_keras.errors import UserError
from fer_keras.rundir import RunDir

#: The name that selects the bundled model (``--model pretrained``, ``model.init_from: pretrained``).
PRETRAINED = "pretrained"
#: Folder of the bundled FER2013 model, laid out as a finished run.
BUNDLED_DIR = Path(__file__).resolve().parent / "pretrained" / "fer2013"
#: Its Keras file.
BUNDLED_MODEL = RunDir(BUNDLED_DIR).model_path(0)


def bundled_dir() -> Path:
    """The bundled model's folder; one-line error when its files are missing."""
    if not BUNDLED_MODEL.is_file() or not RunDir(BUNDLED_DIR).config_path.is_file():
        raise UserError(f"the bundled FER2013 model is missing from this installation ({BUNDLED_MODEL}); "
                        "reinstall fer_keras, or give --model / model.init_from a run directory")
    return BUNDLED_DIR


def resolve_model(source: str | Path | None) -> Path:
    """``None`` or ``"pretrained"`` → the bundled model's folder; anything else as a path."""
    if source is None or str(source) == PRETRAINED:
        return bundled_dir()
    return Path(source)


def model_file_in(folder: Path) -> Path | None:
    """The model a run folder stands for: ``model_fold0.keras``, else its first ``model_fold*.keras``,
    else its first ``.keras`` file; None when it holds none."""
    run = RunDir(folder)
    models = run.model_files()
    if run.model_path(0) in models:
        return run.model_path(0)
    candidates = models or run.keras_files()
    return candidates[0] if candidates else None


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


def load_keras_file(path: Path, error: type[UserError] = UserError):
    """``keras.models.load_model(path, compile=False)``; a damaged, foreign or unsafe file is one ``error`` line.

    fer_keras's custom layers must be registered first (importing :mod:`fer_keras.models` does it).
    """
    import keras  # loaded when a model is, so commands that fail earlier start fast

    if Path(path).is_file() and not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise error(f"cannot load model {path}: the file exists but is not a .keras archive (a zip); "
                    "is it damaged or of another format?")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as failure:  # Keras raises many kinds for a bad file
        raise error(load_failure(f"model {path}", failure)) from None
