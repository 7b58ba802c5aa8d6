"""Understand a menu answer by meaning when its words do not decide, and combine both answers.

The lemma ``Matcher`` is exact and fast, but a phrase only matches when its words are said:
«соедините меня с сотрудником» has none of the operator command's words. A sentence encoder
places texts of similar meaning close together, so each menu choice is described by its
*evidence* — its phrases, its label, and the topic of the state it leads to — and a caller's
words go to the choice whose evidence is nearest. A new flow therefore works with a handful of
phrases per option.

``Router`` is what a ``Menu`` exposes to the engine (``match`` and ``decisive``, like
``Matcher``):

* The lemma matcher answers first. Its "match" stands: it is cheap (no model is loaded for it)
  and was measured right on the flow's own phrasing.
* Its "ambiguous" between a section and one of that section's own pages is not a question worth
  asking — the page is the more specific answer, so the page is taken.
* What is left ("none", "ambiguous") is decided by meaning, with the thresholds below. A
  clarification offers at most two choices.

Evidence vectors are computed once per distinct set of texts and kept on disk (``cache_dir
("semantic")``), keyed by the texts and the encoder's name; an unreadable or unwritable cache only
costs the time to recompute.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.cache import cache_dir
from ivr.understanding.encoder import EncoderUnavailable, SentenceEncoder, default_encoder
from ivr.understanding.matcher import Match, Matcher

log = logging.getLogger(__name__)

CACHE_KIND = "semantic"
# Cache format; bump when what is stored under a key changes.
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Thresholds:
    """Cosine levels (0..1) the router decides on; see ``DEFAULT_THRESHOLDS`` for where each
    value comes from."""

    match: float  # best choice at least this near …
    margin: float  # … and this much nearer than the runner-up: route to it
    confirm: float  # best at least this near with ``confirm_margin``: ask «Правильно понимаю…?»
    confirm_margin: float
    clarify: float  # best at least this near but no margin: ask between the top two
    among_margin: float  # the lemma matcher named candidates: margin to pick one of them
    top_k: int = 1  # a choice scores the mean of its k nearest evidence texts


# Chosen by benchmarks/tune_semantic.py on the "tune" split of tests/understanding/eval_gosuslugi.yaml
# (287 phrasings), objective right − 3 × wrong with clarifications ≤ 5 % and the convo tests'
# «ask again» turns kept. e5 cosines of unrelated Russian sentences sit at 0.80–0.88, so:
# * match 0.90 with margin 0.02: 0.88 routed 0.7 points more right for 0.4 more wrong; margin 0.04
#   cut wrong routes 8.0 → 6.3 % but right ones 59.9 → 53.7 %.
# * among_margin 0.06: lower margins pick one of the lemma candidates where the convo tests want
#   the question («не могу войти и сайт не работает»: 0.03 apart); «ошибка пятьсот при отправке
#   заявления» is 0.06 clear of the rest and is routed.
# * top_k 3: the mean of a choice's three nearest texts beat the single nearest (right 59.9 vs
#   54.0 % at equal settings) — one stray phrase no longer pulls a sentence to its choice.
# * clarify 1.01 (never): asking between the two nearest by meaning alone was right too rarely to
#   be worth the clarifications budget.
# * confirm 0.88 / 0.01 is NOT tuned (confirm is off until the engine asks the question): a
#   placeholder band just below ``match``, to be tuned once "confirm" outcomes can be scored.
DEFAULT_THRESHOLDS = Thresholds(
    match=0.90, margin=0.02, confirm=0.88, confirm_margin=0.01, clarify=1.01, among_margin=0.06,
    top_k=3,
)


# ----------------------------------------------------------------------------------- cache


def cache_key(encoder: SentenceEncoder, texts: Sequence[str]) -> str:
    blob = json.dumps([_CACHE_FORMAT, encoder.name, list(texts)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def embed_cached(encoder: SentenceEncoder, texts: Sequence[str], folder: Path | None = None) -> np.ndarray:
    """Query-side vectors of ``texts`` (rows in order), from the disk cache when it holds them.

    Any cached file that is not exactly the array expected (truncated, another shape, NaN) is
    ignored and rewritten; a cache folder that cannot be written is not an error.
    """
    folder = folder if folder is not None else cache_dir(CACHE_KIND)
    path = folder / f"{cache_key(encoder, texts)}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if (
            cached.dtype == np.float32
            and cached.shape == (len(texts), encoder.dimension)
            and np.isfinite(cached).all()
        ):
            return cached
        log.info("semantic cache %s has the wrong shape; recomputing", path)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - a corrupt file is just a miss
        log.info("semantic cache %s unreadable (%s); recomputing", path, exc)
    vectors = np.ascontiguousarray(encoder.encode_queries(texts), dtype=np.float32)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npy"
        np.save(tmp, vectors, allow_pickle=False)
        os.replace(tmp, path)
    except OSError as exc:
        log.info("semantic cache %s not written (%s); kept in memory", path, exc)
    return vectors


# ----------------------------------------------------------------------------------- index

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str) -> str | None:
    """The first sentence of a prompt, unless it holds a template placeholder (its words are
    then not what the caller hears)."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    return sentence if sentence and "{" not in sentence else None


class SemanticIndex:
    """Evidence vectors of one menu's choices, computed on first use."""

    def __init__(
        self,
        evidence: Mapping[str, Sequence[str]],
        encoder: SentenceEncoder,
        folder: Path | None = None,
    ) -> None:
        self.ids = tuple(evidence)
        texts: list[str] = []
        owners: list[int] = []
        for index, choice in enumerate(self.ids):
            seen = set()
            for text in evidence[choice]:
                text = " ".join(text.lower().split())
                if text and text not in seen:
                    seen.add(text)
                    texts.append(text)
                    owners.append(index)
        self.texts = tuple(texts)
        self._owners = np.array(owners, dtype=np.intp)
        self._encoder = encoder
        self._folder = folder
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = embed_cached(self._encoder, self.texts, self._folder)
        return self._vectors

    def scores(self, text: str, top_k: int = 1) -> dict[str, float]:
        """Cosine of ``text`` to each choice: the mean of its ``top_k`` nearest evidence texts."""
        query = self._encoder.encode_queries([text])[0]
        sims = self.vectors @ query
        result = {}
        for index, choice in enumerate(self.ids):
            own = sims[self._owners == index]
            if own.size:
                k = min(top_k, own.size)
                result[choice] = float(np.mean(np.partition(own, own.size - k)[own.size - k:]))
        return result


# ----------------------------------------------------------------------------------- router


class Router:
    """The lemma matcher first, meaning for what it cannot decide; see the module docstring."""

    def __init__(
        self,
        matcher: Matcher,
        evidence: Mapping[str, Sequence[str]],
        pages: Mapping[str, frozenset[str]] | None = None,
        *,
        encoder: SentenceEncoder | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        confirm: bool = False,
        cache_folder: Path | None = None,
    ) -> None:
        self.matcher = matcher
        self.thresholds = thresholds
        self.confirm = confirm
        # section id → ids of its own pages offered in the same menu
        self.pages = {section: frozenset(p) for section, p in (pages or {}).items()}
        self._encoder = encoder
        self._evidence = {choice: tuple(texts) for choice, texts in evidence.items()}
        self._cache_folder = cache_folder
        self._index: SemanticIndex | None = None
        self._lock = threading.Lock()

    # The engine's interface, as Matcher's.
    def decisive(self, text: str) -> str | None:
        """Only the lemma matcher acts on partial recognitions: meaning is not worth a model
        call per partial result, and a half-said sentence means little."""
        return self.matcher.decisive(text)

    def match(self, text: str) -> Match:
        return self.combine(self.matcher.match(text), lambda: self.meaning(text))

    def combine(self, lemma: Match, meaning: Callable[[], dict[str, float] | None]) -> Match:
        """The router's decision from the lemma matcher's answer and (asked only if needed) the
        meaning scores; separate from ``match`` so thresholds can be tuned on stored scores."""
        if lemma.kind == "match":
            return lemma
        candidates = self._prefer_pages(lemma.candidates)
        if lemma.kind == "ambiguous" and len(candidates) == 1:
            return Match("match", candidates[0], candidates, lemma.score, "lemma")
        scores = meaning()
        if scores is None:  # no model: the lemma answer, with at most two choices to ask between
            if lemma.kind == "ambiguous":
                return Match("ambiguous", None, candidates[:2], lemma.score, "lemma")
            return lemma
        if lemma.kind == "ambiguous":
            return self._among(candidates, scores, lemma.score)
        return self._decide(scores)

    # --------------------------------------------------------------- meaning
    def meaning(self, text: str) -> dict[str, float] | None:
        """Cosine of ``text`` to every choice, or None when no model can be used."""
        index = self._semantic_index()
        if index is None:
            return None
        try:
            return index.scores(text, self.thresholds.top_k)
        except EncoderUnavailable:
            return None

    def _semantic_index(self) -> SemanticIndex | None:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    encoder = self._encoder or default_encoder()
                    if not encoder.available():
                        return None
                    self._index = SemanticIndex(self._evidence, encoder, self._cache_folder)
        return self._index

    def _decide(self, scores: dict[str, float]) -> Match:
        t = self.thresholds
        ranked = self._ranked(scores)
        best, best_score = ranked[0]
        second_score = ranked[1][1] if len(ranked) > 1 else 0.0
        gap = best_score - second_score
        score = round(100.0 * best_score, 2)
        if best_score >= t.match and gap >= t.margin:
            return Match("match", best, (best,), score, "meaning")
        if best_score >= t.confirm and gap >= t.confirm_margin:
            if self.confirm:
                return Match("confirm", best, (best,), score, "meaning")
            return Match("none", None, (), score, "meaning")
        if best_score >= t.clarify and len(ranked) > 1:
            return Match("ambiguous", None, (best, ranked[1][0]), score, "meaning")
        return Match("none", None, (), score, "meaning")

    def _among(self, candidates: tuple[str, ...], scores: dict[str, float], lemma_score: float) -> Match:
        """The lemma matcher found words of several choices: meaning picks one of them or narrows
        the question to two."""
        ranked = self._ranked({c: scores.get(c, 0.0) for c in candidates})
        best, best_score = ranked[0]
        gap = best_score - (ranked[1][1] if len(ranked) > 1 else 0.0)
        if gap >= self.thresholds.among_margin:
            return Match("match", best, (best,), lemma_score, "meaning")
        # The two nearest, asked about in the lemma matcher's order (its strongest evidence first).
        two = {c for c, _ in ranked[:2]}
        return Match("ambiguous", None, tuple(c for c in candidates if c in two), lemma_score, "meaning")

    def _ranked(self, scores: dict[str, float]) -> list[tuple[str, float]]:
        """Choices nearest first; a section and its own page count as one entry, the page's."""
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        best, best_score = ranked[0]
        rest = [(c, s) for c, s in ranked[1:] if not self._related(best, c)]
        page = next((c for c, _ in ranked[1:] if c in self.pages.get(best, ())), None)
        if page is not None and best in self.pages and (rest[0][1] if rest else 0.0) < scores[page]:
            best = page  # section first, its page right behind: the page is the answer
        return [(best, best_score)] + rest

    def _related(self, a: str, b: str) -> bool:
        return b in self.pages.get(a, ()) or a in self.pages.get(b, ())

    def _prefer_pages(self, candidates: tuple[str, ...]) -> tuple[str, ...]:
        """Drop a section when one of its own pages is among the candidates."""
        return tuple(c for c in candidates if not (self.pages.get(c, frozenset()) & set(candidates)))
