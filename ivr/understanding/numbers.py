"""Russian number words to digits, read the way callers dictate numbers.

A caller reads a СНИЛС, a phone number or an error code in chunks: «сто двенадцать двести
тридцать три …», «восемь девятьсот двенадцать …», «два ноль один». Each chunk is an ordinary
cardinal number; consecutive chunks are written one after another, so a dictated number becomes
one run of digits. A word starts a new chunk when it cannot extend the current one: «двадцать»
after «три», any «ноль», a unit after a unit, a hundred after anything except «тысяча».

Ordinals are read only as the last word of a chunk that cardinals started («две тысячи двадцать
четвёртом» → 2024, «тысяча девятьсот восьмидесятого» → 1980). A lone ordinal stays a word
(«пятисотая ошибка», «второй раз», «первого числа»): on a hotline such words are far more often
ordinary speech than a dictated number, and a slot filled with a wrong digit is worse than a
reprompt. Code that already knows it holds a number, such as the day of a spoken date
(«двадцать пятое ноября», «первое сентября двухтысячного года»), uses ``number_groups``, which
reads lone ordinals too.

The word list is not written by hand: num2words names each value and pymorphy3 inflects the name,
so every case form («двух», «пятью», «тремястами», «четырёхсот») is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from num2words import num2words

from ivr.understanding.lemmas import analyzer
from ivr.understanding.normalize import normalize, tokens

_CARDINAL_VALUES = (*range(20), *range(20, 100, 10), *range(100, 1000, 100), 1000)
# An ordinal of thousands is one word that names its own multiplier («двухтысячного года»): it is
# never the last word of a cardinal chunk and is read only where lone ordinals are (dates).
_ORDINAL_VALUES = (*range(1, 20), *range(20, 100, 10), *range(100, 1000, 100), 1000, 2000)
# Synonyms num2words does not produce.
_EXTRA_CARDINALS = {"нуль": 0}
_NON_DIGITS = re.compile(r"[^0-9]+")


class _Rank(Enum):
    ZERO = "zero"
    UNIT = "unit"
    TEEN = "teen"
    TENS = "tens"
    HUNDRED = "hundred"
    THOUSAND = "thousand"

    @classmethod
    def of(cls, value: int) -> _Rank:
        if value == 0:
            return cls.ZERO
        if value < 10:
            return cls.UNIT
        if value < 20:
            return cls.TEEN
        if value < 100:
            return cls.TENS
        if value < 1000:
            return cls.HUNDRED
        return cls.THOUSAND


@dataclass(frozen=True)
class _NumberWord:
    value: int
    rank: _Rank
    ordinal: bool


def _inflections(base: str, *, ordinal: bool) -> list[str]:
    """Case forms of ``base`` that a listener would actually read as that number.

    A cardinal form whose most probable parse is another word is left out: «семью» is far more
    often «семья» than «семь». Ordinal forms are all kept: an ordinal is read only after a
    cardinal or where the caller's code knows a number stands (the day of a date), and there
    «второе» is «двадцать второе», not the main course. Plural forms of «один» and «ноль» («одни»,
    «нули») are not dictation, while «тысячи»/«тысяч» are needed for «две тысячи», «пять тысяч».
    """
    morph = analyzer()
    parses = morph.parse(base)
    if ordinal:
        parse = next(p for p in parses if "Anum" in p.tag)
    else:
        parse = next((p for p in parses if p.tag.POS == "NUMR"), parses[0])
    keep_plural = base.startswith("тысяч")
    forms = []
    for form in parse.lexeme:
        if ordinal and "Anum" not in form.tag:
            continue  # «первейший» and other degrees share the lexeme of «первый»
        if "plur" in form.tag and not (ordinal or keep_plural):
            continue
        if not ordinal and morph.parse(form.word)[0].normal_form != parse.normal_form:
            continue
        forms.append(form.word.replace("ё", "е"))
    return forms


@cache
def _vocabulary() -> dict[str, _NumberWord]:
    """Every known number word, built once on first use (it needs the morphological analyzer)."""
    names: list[tuple[str, int, bool]] = [
        (num2words(value, lang="ru").split()[-1], value, False) for value in _CARDINAL_VALUES
    ]
    names += [(word, value, False) for word, value in _EXTRA_CARDINALS.items()]
    names += [
        (num2words(value, lang="ru", to="ordinal").split()[-1], value, True)
        for value in _ORDINAL_VALUES
    ]
    table: dict[str, _NumberWord] = {}
    for base, value, ordinal in names:
        entry = _NumberWord(value, _Rank.of(value), ordinal)
        for form in _inflections(base, ordinal=ordinal):
            table.setdefault(form, entry)
    return table


MAX_VALUE_DIGITS = 30


def number_value(word: str) -> int | None:
    """Value of a single normalized number word, cardinal or ordinal («пятисотая» → 500).

    The matcher compares numbers by value, so a menu phrase «ошибка 500» or «ошибка пятьсот»
    matches «пятисотая ошибка» and «ошибку пятьсот».
    """
    if word.isascii() and word.isdigit():
        # a run of digits longer than any code or amount is a value of nothing (and past 4,300
        # digits not even convertible)
        return int(word) if len(word) <= MAX_VALUE_DIGITS else None
    entry = _vocabulary().get(word)
    return None if entry is None else entry.value


_BELOW_TEN = frozenset({_Rank.UNIT, _Rank.TEEN})
_TENS_OR_BELOW = frozenset({_Rank.UNIT, _Rank.TEEN, _Rank.TENS})


@dataclass
class _Chunk:
    """One spoken cardinal («сто двенадцать», «две тысячи двадцать шесть») or one typed number."""

    thousands: int | None = None
    below_thousand: int = 0
    ranks: set[_Rank] = field(default_factory=set)
    typed: str | None = None
    closed: bool = False

    def accepts(self, word: _NumberWord) -> bool:
        if word.rank is _Rank.ZERO:
            return False
        if word.rank is _Rank.THOUSAND:
            if word.ordinal or self.thousands is not None:
                return False
            if self.typed is not None:
                return len(self.typed) <= 3 and not self.typed.startswith("0")
            return not self.closed
        if self.closed:
            return False
        if word.rank is _Rank.HUNDRED:
            return not self.ranks and self.thousands is not None
        if word.rank is _Rank.UNIT:
            return not self.ranks & _BELOW_TEN
        return not self.ranks & _TENS_OR_BELOW

    def add(self, word: _NumberWord) -> None:
        if word.rank is _Rank.THOUSAND:
            if word.ordinal:  # «двухтысячный» starts its own chunk and names the multiplier
                multiplier = word.value // 1000
            elif self.typed is not None:
                multiplier = int(self.typed)
            else:
                multiplier = self.below_thousand
            self.thousands = multiplier or 1
            self.below_thousand, self.ranks, self.typed = 0, set(), None
        else:
            self.below_thousand += word.value
            self.ranks.add(word.rank)
        # A zero is a whole chunk; an ordinal ends the number it completes.
        self.closed = word.rank is _Rank.ZERO or word.ordinal

    def value(self) -> int:
        """The spoken number; only ``digits`` knows a typed chunk, whose leading zeros an int loses."""
        return (self.thousands or 0) * 1000 + self.below_thousand

    def digits(self) -> str:
        if self.typed is not None:
            return self.typed
        return str(self.value())


def _extend(run: list[_Chunk], word: _NumberWord, *, lone_ordinals: bool) -> bool:
    """Add a spoken number word to ``run``, continuing its last chunk or starting a new one.

    False, with ``run`` untouched, when the word cannot be read as part of a number here: an
    ordinal that no cardinal started, unless the caller asked for lone ordinals.
    """
    if run and run[-1].accepts(word):
        run[-1].add(word)
    elif lone_ordinals or not word.ordinal:
        run.append(_Chunk())
        run[-1].add(word)
    else:
        return False
    return True


def dictation_words() -> list[str]:
    """The words a caller dictates digits with, in their base form («ноль» … «девятьсот»,
    «тысяча», «одна», «две»), for a speech recognizer's grammar when a slot expects digits."""
    words = [num2words(n, lang="ru") for n in _CARDINAL_VALUES if n < 1000]
    return [*words, *_EXTRA_CARDINALS, "одна", "две", "тысяча", "тысячи", "тысяч", "плюс"]


def is_number_word(word: str) -> bool:
    """Whether ``word`` (any case, with or without «ё») is a number word, ordinals included.

    Lets code that scans free text (masking) find where a run of dictated number words starts and
    stops before handing the run to ``number_groups``. Typed digits are not words and give False.
    """
    return normalize(word) in _vocabulary()


def number_groups(words: Sequence[str]) -> list[int] | None:
    """The chunks a run of number words was dictated in, as numbers; None if a word is not one.

    «сто двенадцать двести тридцать три сорок пять» is [112, 233, 45] and «ноль ноль семь» is
    [0, 0, 7]: the chunks are split exactly as ``words_to_digits`` splits them, but kept apart, so
    a date can tell the day from the year and masking can count digits. Unlike ``words_to_digits``
    a lone ordinal is a number of its own («двадцатого пятого» → [20, 5], «двухтысячного» →
    [2000]): the caller has already decided these words are a number (the words around a month
    name, a run of number words in a transcript), so the free-speech caution does not apply.
    Words are normalized here; typed digits are not number words.
    """
    vocabulary = _vocabulary()
    run: list[_Chunk] = []
    for raw in words:
        word = vocabulary.get(normalize(raw))
        if word is None:
            return None
        _extend(run, word, lone_ordinals=True)
    return [chunk.value() for chunk in run]


def words_to_digits(text: str) -> str:
    """Replace each run of number words with the digits the caller dictated.

    A run is a maximal sequence of number tokens; its chunks are concatenated into one digit
    string. Digits typed as digits are kept: a run of typed digits only («1 2 3») stays as typed,
    and typed digits inside a run of number words join it («плюс 7 девятьсот …» → «плюс 7900…»,
    «2 тысячи двадцать шесть» → «2026»). Other words come back normalized and unchanged.
    """
    vocabulary = _vocabulary()
    out: list[str] = []
    run: list[_Chunk] = []
    for token in tokens(text):
        word = vocabulary.get(token)
        if token.isascii() and token.isdigit():
            run.append(_Chunk(typed=token, closed=True))
            continue
        if word is not None and _extend(run, word, lone_ordinals=False):
            continue
        if run:
            _flush(run, out)
        out.append(token)
    if run:
        _flush(run, out)
    return " ".join(out)


def _flush(run: list[_Chunk], out: list[str]) -> None:
    """Write a finished run to ``out``: typed digits as typed, anything spoken as one number."""
    if all(chunk.typed is not None for chunk in run):
        out.extend(chunk.typed for chunk in run if chunk.typed is not None)
    else:
        out.append("".join(chunk.digits() for chunk in run))
    run.clear()


def digit_runs(text: str) -> list[str]:
    """The separate numbers in what the caller said or typed: the digits of consecutive number
    tokens joined, any other word between two numbers separating them («обращение номер 12345678,
    ответа нет уже 40 дней»: 12345678 and 40)."""
    runs: list[str] = []
    current: list[str] = []
    for token in words_to_digits(text).split():
        if token.isdigit():
            current.append(token)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def extract_digits(text: str) -> str:
    """All digits the caller said or typed, in order, for slots such as a СНИЛС or a phone number."""
    return _NON_DIGITS.sub("", words_to_digits(text))
