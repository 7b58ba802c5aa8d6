"""Where the simulator keeps files it can always recompute (prompt audio, phrase embeddings).

One place, so ``IVR_CACHE_DIR`` moves every cache at once and tests can point it at a temporary
folder; the location itself is resolved in ``ivr.settings``.
"""

from __future__ import annotations

from pathlib import Path

from ivr.settings import Places


def cache_dir(kind: str, places: Places | None = None) -> Path:
    """The folder for one kind of cached file: ``$IVR_CACHE_DIR/<kind>``, else the user's cache
    folder (``$XDG_CACHE_HOME`` or ``~/.cache``) ``/ivr/<kind>``. Nothing is created here."""
    return (places or Places.from_env()).cache(kind)
