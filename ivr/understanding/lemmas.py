"""Dictionary forms of Russian words, so that «паролем», «пароля» and «пароль» compare equal.

Building a ``MorphAnalyzer`` loads the dictionaries (tens of milliseconds and several megabytes),
so there is exactly one per process, created on first use rather than at import time: importing
the package for a DTMF-only flow or for ``--help`` must stay cheap. Callers repeat the same few
hundred words all day long, so each word is analysed once and remembered. Analysis runs on the C
reader of pymorphy3's dictionaries (``pymorphy3[fast]``, DAWG2): the pure-Python reader gives the
same parses about three times slower.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import pymorphy3
from pymorphy3.analyzer import Parse

from ivr.understanding.normalize import tokens

# Large enough for the whole vocabulary of a long session (menu phrases, callers' words and the
# concatenated word pairs the matcher tries), small enough to stay a few megabytes.
CACHE_SIZE = 1 << 17

_analyzer: pymorphy3.MorphAnalyzer | None = None
_analyzer_lock = threading.Lock()


def analyzer() -> pymorphy3.MorphAnalyzer:
    """Return the process-wide analyzer; the lock keeps concurrent first calls from building two."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = pymorphy3.MorphAnalyzer()
    return _analyzer


@lru_cache(maxsize=CACHE_SIZE)
def parses(word: str) -> tuple[Parse, ...]:
    """Every analysis of ``word``, most probable first; never raises on odd characters."""
    try:
        return tuple(analyzer().parse(word))
    except ValueError:
        # pymorphy3 looks up Unicode character names for unknown words and fails on characters
        # that have none (seen: U+17000). A caller's odd character must not crash the call, so the
        # word is treated as unknown, exactly like pymorphy3 treats an emoji.
        return (analyzer().parse("🙂")[0]._replace(word=word, normal_form=word),)


def best_parse(word: str) -> Parse:
    """Most probable analysis; callers that need the part of speech share this one cached parse."""
    return parses(word)[0]


@lru_cache(maxsize=CACHE_SIZE)
def lemma(word: str) -> str:
    """Normal form of the most probable parse, with «ё» folded like ``normalize`` folds it.

    pymorphy writes «ё» in normal forms («учётный»), while normalized text never contains it.
    """
    return best_parse(word).normal_form.replace("ё", "е")


def lemmas(text: str) -> tuple[str, ...]:
    """Lemmas of the normalized words of ``text``, in order."""
    return tuple(lemma(word) for word in tokens(text))


def only_with(text: str, core: frozenset[str], company: frozenset[str]) -> bool:
    """``text`` says one of the lemmas ``core`` and otherwise only lemmas of ``core`` or ``company``:
    «спасибо большое», «подождите, сейчас паспорт найду» — a short turn that is all one thing."""
    words = lemmas(text)
    return any(w in core for w in words) and all(w in core or w in company for w in words)
