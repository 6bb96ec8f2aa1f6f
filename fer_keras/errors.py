"""The base of every error caused by the user's input; the CLIs print these as one line."""


class UserError(ValueError):
    """Bad input (config, dataset, model choice, run directory); the message is one line for the user."""
