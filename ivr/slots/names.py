"""Personal names: telling a name from other words, and masking names said in free speech."""

from __future__ import annotations

import re
from functools import lru_cache

from ivr.personal.masking import mask_text
from ivr.understanding.lemmas import CACHE_SIZE, parses

_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


@lru_cache(maxsize=CACHE_SIZE)
def name_like(word: str) -> bool:
    """Some reading of the word is a first name, surname or patronymic (pymorphy3 guesses unknown
    surnames by their endings: «абдуллаев», «цой»). Cached: every word of every line written to a
    transcript or report is asked, the same few hundred words again and again."""
    return any(_NAME_TAGS & p.tag.grammemes for p in parses(word))


_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)?")
_GAP = re.compile(r"[\s,]*")
_INITIAL_GAP = re.compile(r"\.[\s,]*")  # after an initial: its dot, then the usual gap


def _initial(text: str, word: re.Match[str]) -> bool:
    """A single letter with a dot («С.»): what a masked or abbreviated name leaves."""
    return len(word.group()) == 1 and text.startswith(".", word.end())


def mask_names(text: str) -> str:
    """Names said in free speech («меня зовут Петрова Анна Сергеевна») become initials. Two or more
    name-like words in a row count (pymorphy3 tags first names, surnames and patronymics, and guesses
    unknown surnames by their endings); one alone does not — «Вера», «Роман» and «Надежда» are also
    ordinary words, and a lone first name identifies nobody.

    Initials join a run: when part of a name was already masked («С. В. Андреевич», left by the
    redactor after the caller gave only two of the three words) or was said as initials, the name
    word next to them is masked too. A run of initials alone («т. ч.») is left as it is."""
    words = list(_WORD.finditer(text))
    runs: list[list[re.Match[str]]] = []
    run: list[re.Match[str]] = []

    def closes(run: list[re.Match[str]]) -> None:
        if len(run) >= 2 and not all(_initial(text, w) for w in run):
            runs.append(run)

    for word in words:
        part = _initial(text, word) or name_like(word.group().lower())
        if run and part:
            gap = _INITIAL_GAP if _initial(text, run[-1]) else _GAP
            if gap.fullmatch(text, run[-1].end(), word.start()) is not None:
                run.append(word)
                continue
        closes(run)
        run = [word] if part else []
    closes(run)
    pieces, end = [], 0
    for found in runs:
        last = found[-1].end() + (1 if _initial(text, found[-1]) else 0)
        pieces += [text[end : found[0].start()], " ".join(f"{w.group()[0].upper()}." for w in found)]
        end = last
    return "".join(pieces) + text[end:] if pieces else text


def inflections(word: str) -> set[str]:
    """Every case form of a name word («семёнов» → «семёнова», «семёнову», …), lower-case, with «ё»
    also written as «е» (recognisers write «семенов»): a name the caller gave once may come back
    in any case («звонил Семёнову»). A word pymorphy3 does not read as a name is itself only."""
    word = word.lower()
    forms = {word}
    for parse in parses(word):
        if _NAME_TAGS & parse.tag.grammemes:
            forms.update(form.word for form in parse.lexeme)
    return forms | {form.replace("ё", "е") for form in forms}


def mask_free_text(text: str) -> str:
    """Free speech as it may be written to disk: names as initials, long numbers starred."""
    return mask_text(mask_names(text))
