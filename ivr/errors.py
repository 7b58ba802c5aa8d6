"""User-facing errors.

Everything a user can get wrong (a flow file, an audio file, a missing model) is raised as a
``UserError``: the CLI prints its message and exits with code 2 instead of showing a traceback.
"""

from __future__ import annotations

EXIT_INVALID_INPUT = 2


class UserError(Exception):
    """An error caused by the user's input; ``str(err)`` is the complete message to print."""

    exit_code = EXIT_INVALID_INPUT


class AudioFileError(UserError):
    """An audio file that cannot be used; the message names the file and the problem."""


class ModelMissingError(UserError):
    """No speech model was found; the message names the exact command that fetches one."""
