"""Route a caller's words to one menu choice, or admit that the words do not decide.

A wrong route costs the caller more than a reprompt, so the matcher answers "none" unless a
phrase of one choice is clearly present, and "ambiguous" whenever a second choice has comparable
evidence. How a phrase is found in an utterance:

* Words are compared by lemma (pymorphy3), numbers by value («четыреста четыре» = «404»,
  «пятисотая» = «пятьсот» = «500»).
* Filler and function words («ну», «э», «пожалуйста», «мне нужно», «я хотел бы», prepositions,
  pronouns) are dropped on both sides, unless the menu itself needs one («да» in a yes/no menu).
* «не» is not dropped: it marks the next content word, and a negated word only matches a negated
  word, so «не приходит смс» never matches «приходит смс».
* Misspellings are forgiven with rapidfuzz (``TOKEN_CUTOFF``), but only for words the dictionary
  does not know («пороль», «авторизацыя»): a known word was said as that word, and near pairs
  such as «приложение»/«предложение» or «подавать»/«подать» mean different things. Words shorter
  than ``FUZZY_MIN_LENGTH`` letters and numbers always need an exact match.
* Two words that form one dictionary word when joined are read as that word: the recogniser
  splits compounds («гос услуги» → «госуслуги»).
* A phrase is present to the weighted share of its words found in the utterance; nouns and
  adjectives weigh more than verbs and adverbs, which recur across topics («получить»,
  «написать»). It scores ``present × (PRESENCE_FLOOR + (100 − PRESENCE_FLOOR) × explained)``,
  where ``explained`` is the weighted share of the utterance words it matched: an utterance that
  is exactly a phrase scores 100, a long one containing it at least ``PRESENCE_FLOOR``. A choice
  scores its best phrase.
* A phrase at least ``EVIDENCE`` present is evidence for its choice, and the words it matched
  are explained by that choice.

The best choice is a match only if it reaches ``threshold`` and no other choice is a candidate
too: one scoring within ``margin`` of it, or a rival whose evidence explains words the best choice
leaves unexplained, weighing at least ``RIVAL_SHARE`` of what the best choice explains («статус
оплаты» names both the payment choice and the status choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from ivr.understanding.lemmas import CACHE_SIZE, best_parse, lemma
from ivr.understanding.numbers import number_value, words_to_digits

# The best choice must score this much. Every phrase fully present scores at least
# PRESENCE_FLOOR, so 70 accepts a phrase said in any longer sentence and a one-word phrase with a
# recognition slip in a short sentence, while a phrase with only half of its words present, or a
# slip inside a long sentence, falls below it and the engine asks again.
DEFAULT_THRESHOLD = 70.0
# Scores of two choices closer than this are a tie; five points is a fifth of the range that
# separates an exact utterance from a long one containing the same phrase.
DEFAULT_MARGIN = 5.0

# Fuzzy word similarity (rapidfuzz ``ratio``) accepted as the same word: one wrong letter in a
# six-letter word («пороль» 83) or in a longer one («авторизацыя» 91), not in a five-letter one.
TOKEN_CUTOFF = 82
# Shorter words (and numbers) must match exactly.
FUZZY_MIN_LENGTH = 5
# Lowest score of a phrase whose words are all present, however long the utterance.
PRESENCE_FLOOR = 75.0
# A phrase this much present is evidence for its choice: both words of «статус заявления» in
# «статус заявления», «статус» alone in «статус оплаты».
EVIDENCE = 0.5
# Evidence for another choice on words the best choice does not explain makes it a candidate when
# it weighs at least this share of the best choice's evidence.
RIVAL_SHARE = 0.5

# Parts of speech that carry no topic (pymorphy3 tags): prepositions, conjunctions, particles,
# interjections, pronouns.
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})
# Content words that callers use as filler; compared by lemma.
_FILLER_LEMMAS = frozenset(
    {
        "э", "ээ", "эээ", "эм", "мм", "ммм", "ну", "вот", "это", "пожалуйста", "спасибо",
        "нужно", "нужный", "надо", "можно", "хотеть", "хотеться", "быть", "бы", "сказать",
        "подсказать", "здравствовать", "здравствуйте", "добрый", "алло", "девушка", "вообще",
        "как", "так",
    }
)  # fmt: skip
# Verbs, adverbs and predicatives name the action, nouns and adjectives the topic; the same verb
# («получить», «написать», «узнать») appears under many topics.
_LIGHT_POS = frozenset({"VERB", "INFN", "PRTF", "PRTS", "GRND", "ADVB", "PRED", "COMP"})
_LIGHT_WEIGHT = 0.5
_NEGATION = "не"

MatchKind = Literal["match", "ambiguous", "none"]


@dataclass(frozen=True)
class Choice:
    id: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    choice: str | None
    candidates: tuple[str, ...]
    score: float


class _Word(NamedTuple):
    surface: str
    key: str
    weight: float
    droppable: bool
    known: bool


class _Term(NamedTuple):
    key: str
    surface: str
    weight: float
    negated: bool
    known: bool


@lru_cache(maxsize=CACHE_SIZE)
def _word(token: str) -> _Word:
    """Everything the matcher needs about one normalized token, computed once per process."""
    value = number_value(token)
    if value is not None:
        # Digits keep their leading zeros («007»); a lone ordinal word becomes its value.
        return _Word(token, token if token.isdigit() else str(value), 1.0, False, True)
    parse = best_parse(token)
    key = lemma(token)
    droppable = parse.tag.POS in _FUNCTION_POS or "Apro" in parse.tag or key in _FILLER_LEMMAS
    weight = _LIGHT_WEIGHT if parse.tag.POS in _LIGHT_POS else 1.0
    return _Word(token, key, weight, droppable, parse.is_known)


def _words(text: str) -> list[_Word]:
    """Words of ``text``, numbers as digits, split compounds rejoined.

    Dictated numbers are grouped the way ``words_to_digits`` reads them, so «ошибка четыреста
    четыре» and «ошибка 404» are the same words.
    """
    words: list[_Word] = []
    for token in words_to_digits(text).split():
        word = _word(token)
        previous = words[-1] if words else None
        if previous is not None and _joinable(previous) and _joinable(word):
            joined = _word(previous.surface + word.surface)
            if joined.known and not joined.droppable:
                words[-1] = joined
                continue
        words.append(word)
    return words


def _joinable(word: _Word) -> bool:
    return not word.droppable and word.surface != _NEGATION and not word.key.isdigit()


def _read(text: str, keep: frozenset[str]) -> tuple[list[_Term], list[_Term]]:
    """Split text into (all terms, content terms); «не» negates the next content term.

    ``keep`` holds keys that stay content even though they are filler or function words, because
    a phrase of the menu consists of nothing else.
    """
    every: list[_Term] = []
    content: list[_Term] = []
    negate = False
    for word in _words(text):
        if word.surface == _NEGATION:
            negate = True
            continue
        kept = not word.droppable or word.key in keep
        term = _Term(word.key, word.surface, word.weight, negate and kept, word.known)
        every.append(term)
        if kept:
            content.append(term)
            negate = False
    return every, content


def _in_order(needles: Sequence[tuple[str, bool]], haystack: Sequence[tuple[str, bool]]) -> bool:
    remaining = iter(haystack)
    return all(needle in remaining for needle in needles)


class Matcher:
    """One menu, prepared once when the flow loads and used for every turn of every call."""

    def __init__(
        self,
        choices: Sequence[Choice],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        if not choices:
            raise ValueError("a menu needs at least one choice")
        if not 0.0 <= threshold <= 100.0 or margin < 0.0:
            raise ValueError(f"threshold must be within 0..100 and margin >= 0: {threshold}, {margin}")
        ids = [choice.id for choice in choices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"choice ids must be unique: {ids}")
        self.threshold = threshold
        self.margin = margin
        self._ids = tuple(ids)

        phrase_terms: list[list[_Term]] = []
        self._sequences: list[tuple[tuple[str, bool], ...]] = []
        phrase_choice: list[int] = []
        choice_start: list[int] = []
        for index, choice in enumerate(choices):
            if not choice.phrases:
                raise ValueError(f"choice {choice.id!r} has no phrases")
            choice_start.append(len(phrase_terms))
            for phrase in choice.phrases:
                every, content = _read(phrase, frozenset())
                if not every:
                    raise ValueError(f"phrase {phrase!r} of choice {choice.id!r} has no words")
                # A phrase made only of filler words («да», «вот это») is matched on all of them.
                phrase_terms.append(content or every)
                self._sequences.append(tuple((t.key, t.negated) for t in every))
                phrase_choice.append(index)

        vocabulary = sorted({(t.key, t.surface) for terms in phrase_terms for t in terms})
        column = {entry: i for i, entry in enumerate(vocabulary)}
        self._keep = frozenset(key for key, _ in vocabulary)
        self._vocab_keys = [key for key, _ in vocabulary]
        self._vocab_surfaces = [surface for _, surface in vocabulary]
        self._exact_only = np.array(
            [len(key) < FUZZY_MIN_LENGTH or key.isdigit() for key in self._vocab_keys]
        )

        flat = [(i, t) for i, terms in enumerate(phrase_terms) for t in terms]
        self._term_column = np.array([column[(t.key, t.surface)] for _, t in flat])
        self._term_negated = np.array([t.negated for _, t in flat])
        self._term_weight = np.array([t.weight for _, t in flat])
        self._phrase_start = np.cumsum([0] + [len(terms) for terms in phrase_terms[:-1]])
        self._phrase_weight = np.array([sum(t.weight for t in terms) for terms in phrase_terms])
        self._choice_start = np.array(choice_start)
        self._phrase_choice = np.array(phrase_choice)

    def match(self, text: str) -> Match:
        _, content = _read(text, self._keep)
        if not content:
            return Match("none", None, (), 0.0)
        present, covered = self._phrase_evidence(content)
        weights = np.array([t.weight for t in content])
        explained = weights @ covered / weights.sum()
        phrase_score = present * (PRESENCE_FLOOR + (100.0 - PRESENCE_FLOOR) * explained)
        choice_score = np.maximum.reduceat(phrase_score, self._choice_start)
        # Utterance words explained by each choice's evidence (words × choices), and their weight.
        explains = np.logical_or.reduceat(covered & (present >= EVIDENCE), self._choice_start, axis=1)
        evidence = weights @ explains

        # Of equal scores, the choice explaining more is the one rivals are measured against.
        best = int(np.lexsort((-evidence, -choice_score))[0])
        best_score = float(choice_score[best])
        if best_score < self.threshold:
            return Match("none", None, (), round(best_score, 2))

        novel = weights @ (explains & ~explains[:, best : best + 1])
        rival = (novel > 0) & (novel >= RIVAL_SHARE * evidence[best])
        close = choice_score >= best_score - self.margin
        candidates = np.flatnonzero(rival | close)
        if len(candidates) > 1:
            ranked = sorted(candidates, key=lambda i: (-choice_score[i], -evidence[i]))
            ids = tuple(self._ids[i] for i in ranked)
            return Match("ambiguous", None, ids, round(best_score, 2))
        return Match("match", self._ids[best], (self._ids[best],), round(best_score, 2))

    def decisive(self, text: str) -> str | None:
        """Choice to act on before the caller has finished speaking, or None when unsure.

        A partial recognition is acted on only when the words of one choice's phrase are all
        there, exactly and in order, no phrase of another choice is, and ``match`` agrees; a word
        still being recognised («паро») is not the word.
        """
        every, _ = _read(text, self._keep)
        said = [(t.key, t.negated) for t in every]
        present = {
            self._phrase_choice[i]
            for i, sequence in enumerate(self._sequences)
            if _in_order(sequence, said)
        }
        if len(present) != 1:
            return None
        chosen = self._ids[present.pop()]
        result = self.match(text)
        return chosen if result.kind == "match" and result.choice == chosen else None

    def _phrase_evidence(self, content: list[_Term]) -> tuple[np.ndarray, np.ndarray]:
        """How much of each phrase is present, and which utterance words each phrase matched.

        Returns ``present`` (phrases,) in 0..1 and ``covered`` (words × phrases) booleans.
        """
        n_words = len(content)
        n_vocab = len(self._vocab_keys)
        similarity = process.cdist(
            [t.key for t in content] + [t.surface for t in content],
            self._vocab_keys + self._vocab_surfaces,
            scorer=fuzz.ratio,
            score_cutoff=TOKEN_CUTOFF,
            dtype=np.uint8,
        )
        # Best of lemma/surface against lemma/surface, per (word, vocabulary entry).
        similarity = np.maximum(similarity[:n_words], similarity[n_words:])
        similarity = np.maximum(similarity[:, :n_vocab], similarity[:, n_vocab:])
        known = np.array([t.known for t in content])
        fuzzy_allowed = ~known[:, None] & ~self._exact_only[None, :]
        similarity = np.where(fuzzy_allowed | (similarity == 100), similarity, 0)

        negated = np.array([t.negated for t in content])
        per_term = similarity[:, self._term_column].astype(np.float32)
        per_term *= negated[:, None] == self._term_negated[None, :]
        best = per_term.max(axis=0) / 100.0
        present = np.add.reduceat(best * self._term_weight, self._phrase_start) / self._phrase_weight
        covered = np.logical_or.reduceat(per_term > 0, self._phrase_start, axis=1)
        return present, covered
