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

from collections.abc import Iterator, Sequence
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
FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})
# Content words that callers use as filler; compared by lemma.
_FILLER_LEMMAS = frozenset(
    {
        "э", "ээ", "эээ", "эм", "мм", "ммм", "ну", "вот", "это", "пожалуйста", "спасибо",
        "нужно", "нужный", "надо", "можно", "хотеть", "хотеться", "быть", "бы",
        "здравствовать", "здравствуйте", "добрый", "алло", "девушка", "вообще",
        "как", "так",
    }
)  # fmt: skip
# «скажите», «подскажите» only ask politely; «скажу пароль», «могу сказать код» offer something,
# and the verb is what tells the offer (a password the caller must never dictate) from the topic
# («забыл пароль»): these verbs are filler only in the imperative.
_POLITE_REQUESTS = frozenset({"сказать", "подсказать"})
# Verbs, adverbs and predicatives name the action, nouns and adjectives the topic; the same verb
# («получить», «написать», «узнать») appears under many topics.
_LIGHT_POS = frozenset({"VERB", "INFN", "PRTF", "PRTS", "GRND", "ADVB", "PRED", "COMP"})
_LIGHT_WEIGHT = 0.5
_NEGATION = "не"
# «назад» after a span of time is «ago» («месяц назад», «две недели назад»), not the «назад» of a
# back command: a caller telling when they applied was asked whether they meant to go back.
_AGO = "назад"
_TIME_UNITS = frozenset(
    {"секунда", "минута", "час", "день", "сутки", "неделя", "месяц", "год", "полгода", "полчаса", "лет"}
)

MatchKind = Literal["match", "confirm", "ambiguous", "none"]
# Which understanding decided: the phrase words (this module) or the meaning (``semantic``); "line":
# a "none" that is surely talk about the line itself («алло», ``semantic.SURE_LINE_TALK``), no miss.
DecidedBy = Literal["lemma", "meaning", "line"]


@dataclass(frozen=True)
class Choice:
    """A menu option as the flow author wrote it.

    Phrases are compared by lemma, so one form of each word is enough («забыл пароль» also
    catches «забыла пароля»); different words with the same meaning («войти», «зайти», «вход»)
    need a phrase each.
    """

    id: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """What the engine does next: route on "match", ask between ``candidates`` on "ambiguous",
    ask «Правильно понимаю: …?» about ``choice`` on "confirm" (only from a router built with
    ``confirm=True``), reprompt on "none". ``score`` (0..100, of the best choice) is for logs and
    reports; ``by`` says which understanding decided, so reports can tell the two apart."""

    kind: MatchKind
    choice: str | None
    candidates: tuple[str, ...]
    score: float
    by: DecidedBy = "lemma"


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
    droppable = (
        parse.tag.POS in FUNCTION_POS
        or "Apro" in parse.tag
        or key in _FILLER_LEMMAS
        or (key in _POLITE_REQUESTS and parse.tag.mood == "impr")
    )
    weight = _LIGHT_WEIGHT if parse.tag.POS in _LIGHT_POS else 1.0
    return _Word(token, key, weight, droppable, parse.is_known)


# Texts whose words are remembered: each load of a flow reads its phrases and examples again (the
# loader's checks, every menu's matcher and meaning index: ~13,000 readings of the Госуслуги
# flow's texts), and callers repeat the same answers.
TEXT_CACHE_SIZE = 1 << 14


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _words(text: str) -> tuple[_Word, ...]:
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
        if word.key == _AGO and previous is not None and previous.key in _TIME_UNITS:
            continue  # «ago»: no choice is about it, and a menu phrase «назад» must not see it
        words.append(word)
    return tuple(words)


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


class _Phrase(NamedTuple):
    choice: int
    terms: range  # indices into Matcher._terms: the content words that must be found
    weight: float
    sequence: tuple[tuple[str, bool], ...]  # every word with its negation, for decisive()
    needed: frozenset[tuple[str, bool]]  # the same words as a set, to skip most order checks


def has_words(phrase: str) -> bool:
    """Whether a flow phrase contains anything a caller's answer can be matched on («!!!» or a lone
    «не» does not); the flow loader rejects such phrases instead of failing mid-call."""
    every, _ = _read(phrase, frozenset())
    return bool(every)


def phrase_key(phrase: str) -> tuple[tuple[str, bool], ...]:
    """What the matcher compares a phrase by: its content lemmas with their negation, in order
    (all words if it has no content word). Two phrases with the same key are the same phrase to
    the matcher («забыл пароль», «ну забыла пароль пожалуйста»)."""
    every, content = _read(phrase, frozenset())
    return tuple((t.key, t.negated) for t in content or every)


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

        self._terms: list[_Term] = []
        self._phrases: list[_Phrase] = []
        for index, choice in enumerate(choices):
            if not choice.phrases:
                raise ValueError(f"choice {choice.id!r} has no phrases")
            for phrase in choice.phrases:
                every, content = _read(phrase, frozenset())
                if not every:
                    raise ValueError(f"phrase {phrase!r} of choice {choice.id!r} has no words")
                # A phrase made only of filler words («да», «вот это») is matched on all of them.
                terms = content or every
                sequence = tuple((t.key, t.negated) for t in every)
                first = len(self._terms)
                self._terms.extend(terms)
                span = range(first, len(self._terms))
                weight = sum(t.weight for t in terms)
                self._phrases.append(_Phrase(index, span, weight, sequence, frozenset(sequence)))
        self._term_phrase = [p for p, phrase in enumerate(self._phrases) for _ in phrase.terms]
        # Filler or function words that a phrase consists of stay content in utterances too.
        self._keep = frozenset(term.key for term in self._terms)

        self._exact: dict[tuple[str, bool], list[int]] = {}
        fuzzy: dict[tuple[str, str], list[int]] = {}
        for i, term in enumerate(self._terms):
            self._exact.setdefault((term.key, term.negated), []).append(i)
            if len(term.key) >= FUZZY_MIN_LENGTH and not term.key.isdigit():
                fuzzy.setdefault((term.key, term.surface), []).append(i)
        # Misspelled words are compared with both the lemma and the spelling of long phrase words.
        self._fuzzy_terms = list(fuzzy.values())
        self._fuzzy_strings = [key for key, _ in fuzzy] + [surface for _, surface in fuzzy]

    def match(self, text: str) -> Match:
        _, content = _read(text, self._keep)
        scores, explains, weights = self._choice_scores(content)
        if not scores:
            return Match("none", None, (), 0.0)

        def weight_of(rows: set[int]) -> float:
            return sum(weights[row] for row in rows)

        def strength(choice: int) -> tuple[float, float, int]:
            # Of equal scores, the choice explaining more words ranks first, then menu order.
            return scores[choice], weight_of(explains.get(choice, set())), -choice

        best = max(scores, key=strength)
        best_score = round(scores[best], 2)
        if scores[best] < self.threshold:
            return Match("none", None, (), best_score)
        explained_by_best = explains.get(best, set())
        floor = RIVAL_SHARE * weight_of(explained_by_best)
        candidates = [
            choice
            for choice in scores
            if choice == best
            or scores[choice] >= scores[best] - self.margin
            or 0.0 < floor <= weight_of(explains.get(choice, set()) - explained_by_best)
        ]
        if len(candidates) > 1:
            ranked = sorted(candidates, key=strength, reverse=True)
            return Match("ambiguous", None, tuple(self._ids[c] for c in ranked), best_score)
        return Match("match", self._ids[best], (self._ids[best],), best_score)

    def scores(self, text: str) -> dict[str, float]:
        """Every choice with a word in ``text`` and its score, best first: what ``match`` decided
        between, for ``ivr chat --trace``."""
        _, content = _read(text, self._keep)
        scores, _, _ = self._choice_scores(content)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return {self._ids[choice]: round(score, 2) for choice, score in ranked}

    def _choice_scores(self, content: list[_Term]) -> tuple[dict[int, float], dict[int, set[int]], list[float]]:
        """Per choice: its best phrase's score and the utterance words its evidence explains; and
        the weight of each utterance word."""
        weights = [term.weight for term in content]
        total = sum(weights)
        scores: dict[int, float] = {}
        explains: dict[int, set[int]] = {}
        for p, (present, rows) in self._phrase_evidence(content).items():
            choice = self._phrases[p].choice
            explained = sum(weights[row] for row in rows) / total
            score = present * (PRESENCE_FLOOR + (100.0 - PRESENCE_FLOOR) * explained)
            scores[choice] = max(score, scores.get(choice, 0.0))
            if present >= EVIDENCE:
                explains.setdefault(choice, set()).update(rows)
        return scores, explains, weights

    def among(self, text: str, ids: Sequence[str]) -> str | None:
        """Which one of ``ids`` the words of ``text`` point to, if one does: the answer to «А или
        Б?» is often a single word of one of them («оплата», «пароль»). The strongest presence
        wins; a tie is no answer."""
        _, content = _read(text, self._keep)
        wanted = {i for i, choice in enumerate(self._ids) if choice in ids}
        presence: dict[int, float] = {}
        for p, (present, _rows) in self._phrase_evidence(content).items():
            choice = self._phrases[p].choice
            if choice in wanted and present >= EVIDENCE:
                presence[choice] = max(present, presence.get(choice, 0.0))
        ranked = sorted(presence.values(), reverse=True)
        if not ranked or (len(ranked) > 1 and ranked[0] == ranked[1]):
            return None
        return self._ids[max(presence, key=presence.__getitem__)]

    def decisive(self, text: str) -> str | None:
        """Choice to act on before the caller has finished speaking, or None when unsure.

        A partial recognition is acted on only when the words of one choice's phrase are all
        there, exactly and in order, no phrase of another choice is, and ``match`` agrees; a word
        still being recognised («паро») is not the word.
        """
        every, _ = _read(text, self._keep)
        said = [(term.key, term.negated) for term in every]
        said_set = set(said)
        present = {
            phrase.choice
            for phrase in self._phrases
            if phrase.needed <= said_set and _in_order(phrase.sequence, said)
        }
        if len(present) != 1:
            return None
        chosen = self._ids[present.pop()]
        result = self.match(text)
        return chosen if result.kind == "match" and result.choice == chosen else None

    def _phrase_evidence(self, content: list[_Term]) -> dict[int, tuple[float, set[int]]]:
        """For each phrase with a word in the utterance: how present it is, and which words it matched.

        Presence is the weighted share of the phrase's words found, 0..1, a misspelled word
        counting by its similarity.
        """
        found: dict[int, float] = {}
        rows: dict[int, set[int]] = {}
        for row, term_index, similarity in self._hits(content):
            found[term_index] = max(similarity, found.get(term_index, 0.0))
            rows.setdefault(self._term_phrase[term_index], set()).add(row)
        evidence = {}
        for p, matched in rows.items():
            phrase = self._phrases[p]
            share = sum(found.get(i, 0.0) * self._terms[i].weight for i in phrase.terms)
            evidence[p] = (share / phrase.weight, matched)
        return evidence

    def _hits(self, content: list[_Term]) -> Iterator[tuple[int, int, float]]:
        """(utterance word, phrase word, similarity 0..1) for every pair taken as the same word."""
        misspelled = []
        for row, term in enumerate(content):
            for term_index in self._exact.get((term.key, term.negated), ()):
                yield row, term_index, 1.0
            if not term.known:
                misspelled.append(row)
        if not misspelled or not self._fuzzy_terms:
            return
        scores = process.cdist(
            [content[row].key for row in misspelled] + [content[row].surface for row in misspelled],
            self._fuzzy_strings,
            scorer=fuzz.ratio,
            score_cutoff=TOKEN_CUTOFF,
            dtype=np.uint8,
        )
        # Best of lemma/spelling against lemma/spelling, per (misspelled word, phrase word).
        n_rows, n_entries = len(misspelled), len(self._fuzzy_terms)
        scores = np.maximum(scores[:n_rows], scores[n_rows:])
        scores = np.maximum(scores[:, :n_entries], scores[:, n_entries:])
        for i, entry in zip(*np.nonzero(scores)):
            row = misspelled[i]
            for term_index in self._fuzzy_terms[entry]:
                if self._terms[term_index].negated == content[row].negated:
                    yield row, term_index, float(scores[i, entry]) / 100.0
