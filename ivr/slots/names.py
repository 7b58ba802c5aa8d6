"""Personal names: telling a name from other words, and masking names said in free speech."""

from __future__ import annotations

import re

from ivr.personal.masking import mask_text
from ivr.understanding.lemmas import parses

_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


def name_like(word: str) -> bool:
    """Some reading of the word is a first name, surname or patronymic (pymorphy3 guesses unknown
    surnames by their endings: «абдуллаев», «цой»)."""
    return any(_NAME_TAGS & p.tag.grammemes for p in parses(word))


_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)?")
_GAP = re.compile(r"[\s,]*")


def mask_names(text: str) -> str:
    """Names said in free speech («меня зовут Петрова Анна Сергеевна») become initials. Two or more
    name-like words in a row count (pymorphy3 tags first names, surnames and patronymics, and guesses
    unknown surnames by their endings); one alone does not — «Вера», «Роман» and «Надежда» are also
    ordinary words, and a lone first name identifies nobody."""
    words = list(_WORD.finditer(text))
    runs: list[list[re.Match[str]]] = []
    run: list[re.Match[str]] = []
    for word in words:
        adjacent = not run or _GAP.fullmatch(text, run[-1].end(), word.start()) is not None
        if name_like(word.group().lower()) and adjacent:
            run.append(word)
            continue
        if len(run) >= 2:
            runs.append(run)
        run = [word] if name_like(word.group().lower()) else []
    if len(run) >= 2:
        runs.append(run)
    pieces, end = [], 0
    for found in runs:
        pieces += [text[end : found[0].start()], " ".join(f"{w.group()[0].upper()}." for w in found)]
        end = found[-1].end()
    return "".join(pieces) + text[end:] if pieces else text


def mask_free_text(text: str) -> str:
    """Free speech as it may be written to disk: names as initials, long numbers starred."""
    return mask_text(mask_names(text))
