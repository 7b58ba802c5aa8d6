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
from typing import Any, Protocol, runtime_checkable

from ivr.voice.models import load_model, require_model_dir, supports_grammar
from ivr.voice.vocabulary import model_vocabulary

RATE = 16000
UNK = "[unk]"

log = logging.getLogger("ivr.voice.stt")

_reported_lock = threading.Lock()
_reported_missing: set[tuple[str, str]] = set()
_reported_no_grammar: set[str] = set()


class _OpenDecoder:
    """An open-vocabulary Vosk recognizer kept for the next turn, with the audio it has been fed.

    Vosk builds the open-vocabulary search graph (the lookahead composition of HCLr.fst and
    Gr.fst) lazily, in each recognizer, as its first utterance is decoded: about 0.85 s of CPU on
    the first second of every turn that got a new recognizer, against 0.05 s once it is built. A
    recognizer that has returned its final result starts the next utterance afresh (new features
    and decoder, the built graph kept), so turns share them. Vosk counts word times from the
    recognizer's creation, so ``fed`` (samples since then) is what a turn's times are shifted by.
    """

    def __init__(self, recognizer: Any) -> None:  # vosk.KaldiRecognizer
        self.recognizer = recognizer
        self.fed = 0


# Idle open-vocabulary recognizers by model folder and sample rate: a call takes one for a turn and gives it back
# when the turn ends (two calls at once in one process each get their own).
_idle_lock = threading.Lock()
_idle_open: dict[str, list[_OpenDecoder]] = {}
_SETTLE = bytes(320)  # 10 ms of silence at 16 kHz


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
    """Vosk (Kaldi) recognizer; the model is loaded once per process and shared, and so is each
    open-vocabulary recognizer once its turn is over (see ``_OpenDecoder``)."""

    def __init__(self, model_path: str | os.PathLike[str], sample_rate: int = RATE) -> None:
        self.model_path = require_model_dir(Path(model_path).expanduser(), "путь к модели")
        self.sample_rate = sample_rate
        self._model = load_model(self.model_path)
        self.supports_grammar = supports_grammar(self.model_path)
        self._vocabulary: frozenset[str] | None = None
        self._vocabulary_loaded = False
        self._rec = None
        self._open: _OpenDecoder | None = None  # the open-vocabulary recognizer of this turn
        self._shift = 0.0  # seconds to take off Vosk's word times in this turn
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

        self._give_back()
        self.active_grammar = self.prepare_grammar(grammar)
        self._shift = 0.0
        if self.active_grammar is None:
            self._open = self._take_open()
            rec = self._open.recognizer
            self._shift = self._open.fed / self.sample_rate
        else:
            # ensure_ascii=False matters: Vosk does not decode \uXXXX escapes and hears nothing.
            # A grammar recognizer costs ~0.5 ms to make and its graph is small: made per turn.
            rec = vosk.KaldiRecognizer(
                self._model, float(self.sample_rate), json.dumps(self.active_grammar, ensure_ascii=False)
            )
            rec.SetWords(True)
        self._rec = rec

    def _take_open(self) -> _OpenDecoder:
        with _idle_lock:
            idle = _idle_open.get(self._pool_key)
            if idle:
                return idle.pop()
        import vosk

        rec = vosk.KaldiRecognizer(self._model, float(self.sample_rate))
        rec.SetWords(True)
        return _OpenDecoder(rec)

    def _give_back(self) -> None:
        """Closes this turn's open-vocabulary utterance, if any, and keeps its recognizer for the
        next turn (of this call or another), which must start exactly as on a new recognizer.

        Vosk starts afresh (new features and decoder, no speaker adaptation carried over) only
        after a final result of *running* audio. A turn may have ended at Vosk's own endpoint
        (its result already taken: not running), been flushed, or been left unfinished (a key
        pressed, the call hung up): in every case a moment of silence makes it run and
        ``FinalResult`` closes it."""
        open_decoder, self._open = self._open, None
        if open_decoder is None:
            return
        if self._rec is open_decoder.recognizer:
            self._rec = None
        open_decoder.recognizer.AcceptWaveform(_SETTLE)
        open_decoder.fed += len(_SETTLE) // 2
        open_decoder.recognizer.FinalResult()
        with _idle_lock:
            _idle_open.setdefault(self._pool_key, []).append(open_decoder)

    @property
    def _pool_key(self) -> str:
        return f"{self.model_path}@{self.sample_rate}"

    def accept(self, pcm: bytes) -> Partial | Final | None:
        rec = self._rec
        if rec is None:
            raise RuntimeError("VoskRecognizer.start() must be called before accept()")
        if self._open is not None:
            self._open.fed += len(pcm) // 2
        if rec.AcceptWaveform(bytes(pcm)):
            return _final(rec.Result(), self._shift)
        partial = json.loads(rec.PartialResult()).get("partial", "")
        return Partial(partial) if partial else None

    def finish(self) -> Final:
        rec = self._rec
        if rec is None:
            return Final("")
        self._rec = None
        final = _final(rec.FinalResult(), self._shift)
        self._give_back()
        return final


def _final(raw: str, shift: float = 0.0) -> Final:
    """A Vosk result; ``shift`` seconds are taken off its word times (see ``_OpenDecoder``)."""
    data = json.loads(raw)
    words = tuple(
        Word(
            w.get("word", ""),
            float(w.get("start", 0.0)) - shift,
            float(w.get("end", 0.0)) - shift,
            float(w.get("conf", 0.0)),
        )
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
