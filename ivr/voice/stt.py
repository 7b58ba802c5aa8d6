"""Speech recognition behind a three-call interface, so the listener does not care which engine.

``start`` opens a turn (optionally restricted to a grammar of menu phrases), ``accept`` feeds
16 kHz mono int16 audio and reports a partial or a final result, ``finish`` closes the turn.
:class:`VoskRecognizer` is the offline implementation.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ivr.voice.models import load_model, require_model_dir, supports_grammar
from ivr.voice.vocabulary import model_vocabulary

RATE = 16000
UNK = "[unk]"

log = logging.getLogger("ivr.voice.stt")

_reported_lock = threading.Lock()
_reported_missing: set[tuple[str, str]] = set()
_reported_no_grammar: set[str] = set()


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Partial:
    text: str


@dataclass(frozen=True)
class Final:
    text: str
    words: tuple[Word, ...] = ()


def strip_unk(text: str) -> str:
    return " ".join(w for w in text.split() if w != UNK)


@runtime_checkable
class SpeechRecognizer(Protocol):
    sample_rate: int

    def start(self, grammar: list[str] | None = None) -> None: ...

    def accept(self, pcm: bytes) -> Partial | Final | None: ...

    def finish(self) -> Final: ...


_PUNCT = re.compile(r"[^\w\s\[\]'-]+", re.UNICODE)


def normalize_phrase(phrase: str) -> str:
    """Vosk vocabularies are lower-case words without punctuation."""
    return " ".join(_PUNCT.sub(" ", phrase.lower()).split())


class VoskRecognizer:
    """Vosk (Kaldi) recognizer; the model is loaded once per process and shared."""

    def __init__(self, model_path: str | os.PathLike[str], sample_rate: int = RATE) -> None:
        self.model_path = require_model_dir(Path(model_path).expanduser(), "путь к модели")
        self.sample_rate = sample_rate
        self._model = load_model(self.model_path)
        self.supports_grammar = supports_grammar(self.model_path)
        self._vocabulary: frozenset[str] | None = None
        self._vocabulary_loaded = False
        self._rec = None
        self.active_grammar: list[str] | None = None
        self.dropped_phrases: list[str] = []
        self.last_missing: set[str] = set()

    # -- vocabulary ------------------------------------------------------------------------

    @property
    def vocabulary(self) -> frozenset[str] | None:
        if not self._vocabulary_loaded:
            self._vocabulary = model_vocabulary(self.model_path)
            self._vocabulary_loaded = True
        return self._vocabulary

    @property
    def has_unk(self) -> bool:
        vocab = self.vocabulary
        return vocab is not None and UNK in vocab

    def _spell(self, word: str) -> str:
        """Prefer the spelling the model knows (Russian vocabularies often write «е» for «ё»)."""
        vocab = self.vocabulary
        if vocab is None or word in vocab:
            return word
        if "ё" in word and word.replace("ё", "е") in vocab:
            return word.replace("ё", "е")
        return word

    def missing_words(self, phrases: list[str]) -> set[str]:
        """Words of ``phrases`` that the model cannot output (empty when the vocabulary is unknown)."""
        vocab = self.vocabulary
        if vocab is None:
            return set()
        missing = set()
        for phrase in phrases:
            for word in normalize_phrase(phrase).split():
                if word != UNK and self._spell(word) not in vocab:
                    missing.add(word)
        return missing

    def prepare_grammar(self, phrases: list[str] | None) -> list[str] | None:
        """The grammar actually given to Vosk: normalised, without unusable phrases, with [unk] if known."""
        self.dropped_phrases = []
        self.last_missing = set()
        if phrases is None:
            return None
        key = str(self.model_path)
        if not self.supports_grammar:
            with _reported_lock:
                first = key not in _reported_no_grammar
                _reported_no_grammar.add(key)
            if first:
                log.warning(
                    "Модель %s не поддерживает грамматики: распознаётся свободная речь.", self.model_path
                )
            return None
        missing = self.missing_words(phrases)
        self.last_missing = missing
        kept: list[str] = []
        for phrase in phrases:
            words = normalize_phrase(phrase).split()
            words = [w for w in words if w != UNK]
            if not words:
                continue
            if any(w in missing for w in words):
                self.dropped_phrases.append(phrase)
                continue
            spelled = " ".join(self._spell(w) for w in words)
            if spelled not in kept:
                kept.append(spelled)
        if missing:
            with _reported_lock:
                fresh = sorted(w for w in missing if (key, w) not in _reported_missing)
                _reported_missing.update((key, w) for w in missing)
            if fresh:
                log.warning(
                    "Слова отсутствуют в словаре модели %s и исключены из грамматики: %s",
                    self.model_path,
                    ", ".join(fresh),
                )
        if not kept:
            return None  # nothing usable left: free speech is better than hearing nothing
        if self.has_unk:
            kept.append(UNK)
        return kept

    # -- recognition -----------------------------------------------------------------------

    def start(self, grammar: list[str] | None = None) -> None:
        import vosk

        self.active_grammar = self.prepare_grammar(grammar)
        if self.active_grammar is None:
            rec = vosk.KaldiRecognizer(self._model, float(self.sample_rate))
        else:
            # ensure_ascii=False matters: Vosk does not decode \uXXXX escapes and hears nothing.
            rec = vosk.KaldiRecognizer(
                self._model, float(self.sample_rate), json.dumps(self.active_grammar, ensure_ascii=False)
            )
        rec.SetWords(True)
        self._rec = rec

    def accept(self, pcm: bytes) -> Partial | Final | None:
        rec = self._rec
        if rec is None:
            raise RuntimeError("VoskRecognizer.start() must be called before accept()")
        if rec.AcceptWaveform(bytes(pcm)):
            return _final(rec.Result())
        partial = json.loads(rec.PartialResult()).get("partial", "")
        return Partial(partial) if partial else None

    def finish(self) -> Final:
        rec = self._rec
        if rec is None:
            return Final("")
        self._rec = None
        return _final(rec.FinalResult())


def _final(raw: str) -> Final:
    data = json.loads(raw)
    words = tuple(
        Word(w.get("word", ""), float(w.get("start", 0.0)), float(w.get("end", 0.0)), float(w.get("conf", 0.0)))
        for w in data.get("result", ())
    )
    return Final(data.get("text", ""), words)


def recognize_all(recognizer: SpeechRecognizer, pcm: bytes, grammar: list[str] | None = None,
                  chunk_bytes: int = 6400) -> str:  # 200 ms
    """Every phrase in a whole recording (16 kHz mono int16), joined; ``[unk]`` kept.

    ``ivr transcribe`` and tests use it for files that need no turn-taking."""
    recognizer.start(grammar)
    texts = []
    for i in range(0, len(pcm), chunk_bytes):
        result = recognizer.accept(pcm[i : i + chunk_bytes])
        if isinstance(result, Final) and result.text:
            texts.append(result.text)
    tail = recognizer.finish()
    if tail.text:
        texts.append(tail.text)
    return " ".join(texts)
