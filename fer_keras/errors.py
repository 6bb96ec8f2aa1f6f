"""The error classes: every error caused by the user's input; the CLIs print these as one line.

They live here, not beside the code that raises them, so any module (a layer, an augmentation)
can raise the right one without importing a registry.
"""


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
