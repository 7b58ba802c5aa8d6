"""Files that may hold what a caller said: created readable by their owner only.

Reports and transcripts outlive the rehearsal, and even masked they tell which topic a person
called about and when. Folders the simulator creates are 0700, files 0600; a folder the user
already had keeps its own permissions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_folder(path: Path) -> None:
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """``open(path, mode)`` for text, but a new file is created 0600 (``"w"`` or ``"a"``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        return os.fdopen(fd, mode, encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, text: str) -> None:
    """Write the whole file or nothing: a temporary file beside it (0600, created exclusively),
    then a rename. A full disk leaves no empty or half report behind."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
