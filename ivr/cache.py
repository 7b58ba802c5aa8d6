"""Where the simulator keeps files it can always recompute (prompt audio, phrase embeddings).

One place, so ``IVR_CACHE_DIR`` moves every cache at once and tests can point it at a temporary
folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "IVR_CACHE_DIR"


def cache_dir(kind: str) -> Path:
    """The folder for one kind of cached file: ``$IVR_CACHE_DIR/<kind>``, else the user's cache
    folder (``$XDG_CACHE_HOME`` or ``~/.cache``) ``/ivr/<kind>``. Nothing is created here."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser() / kind
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ivr" / kind
