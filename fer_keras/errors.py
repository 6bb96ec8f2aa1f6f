"""The error classes: every error caused by the user's input; the CLIs print these as one line.

They live here, not beside the code that raises them, so any module (a layer, an augmentation)
can raise the right one without importing a registry.
"""

from __future__ import annotations

import os


class UserError(ValueError):
    """Bad input (config, dataset, model choice, run directory); the message is one line for the user."""


class ConfigError(UserError):
    """A config that cannot be used; the message is one line meant for the user."""


class DatasetError(UserError):
    """A dataset that cannot be read as asked; the message is one line meant for the user."""


class ModelError(UserError):
    """A model that cannot be built as asked; the message is one line meant for the user."""


class InferenceError(UserError):
    """A model, run directory or input that prediction or export cannot use; one line for the user."""


class PartialOutputError(UserError):
    """A command stopped by an error after writing part of its output, which is kept (e.g. the rows that
    fitted on a full disk); a failing command's new ``--out`` is otherwise removed."""


class ExplanationError(UserError):
    """Bad input to an explanation (layer, images, class ids, maps); the message is one line."""


class BaselineError(UserError):
    """Bad input to a classical baseline (unknown feature/classifier, wrong image array)."""


class EnsembleError(UserError):
    """Members that cannot be combined."""


class DivergedError(UserError):
    """The training loss became NaN or infinite: no result is reported."""


class CheckpointError(UserError):
    """A checkpoint folder that cannot be resumed from."""


class ExportError(InferenceError):
    """An export that failed or whose outputs do not match the Keras model."""


class RunDirError(UserError):
    """A run directory that cannot be used as asked (in use, or resumed with another config)."""


class ImageError(DatasetError):
    """One image file that cannot be used; ``reason`` is the short cause."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class ReportError(UserError):
    """A run directory that holds nothing to report."""


class UnknownLabelError(UserError):
    """A dataset code or class name that fer_keras does not know."""
