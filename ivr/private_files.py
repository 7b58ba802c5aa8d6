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
    with open_private(path) as file:
        file.write(text)
