"""Character n-grams of a text, tf-idf weighted: the lexical half of a menu's choice classifier.

Sentence embeddings follow a sentence's gist and blur the one word that decides («чат» against
«сайт», «старший» against «оператор»). Character n-grams (3–5 letters within a word, the word's
edges marked) keep those words, and because they are pieces of words they also match what a
lemma list would miss: other endings («паролем», «пароля»), Vosk's slips («эсэмэска»,
«госуслуг» / «гос услуг»), words glued or split. A linear model over both views is the standard
strong baseline for intent detection with a few dozen examples per intent.

Written here rather than taken from scikit-learn's ``TfidfVectorizer`` because every turn needs
it and scikit-learn costs ≈ 1.5 s and 40 MB to import; training, which does import it, uses
the same ``GramSpace`` so both sides count n-grams the same way.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ivr.understanding.normalize import normalize

GRAM_SIZES = (3, 4, 5)
# An n-gram seen in a single evidence text identifies that text rather than its choice, and
# dropping those shrinks the main menu's vocabulary from 10,900 to 8,300 n-grams (its stored
# weights by a quarter) with the same routing on the evaluation set's tune and report splits.
MIN_TEXTS = 2


def grams(text: str) -> Counter[str]:
    """The n-grams of each word of ``normalize(text)``, the word padded with a space on each side
    so that beginnings and endings are n-grams of their own (``" пар"``, ``"оль "``)."""
    found: Counter[str] = Counter()
    for word in normalize(text).split():
        padded = f" {word} "  # at least three characters: a one-letter word is one 3-gram
        for size in GRAM_SIZES:
            for start in range(len(padded) - size + 1):
                found[padded[start : start + size]] += 1
    return found


@dataclass(frozen=True)
class GramSpace:
    """A vocabulary of n-grams with their idf; texts become unit-length sparse vectors in it."""

    vocabulary: np.ndarray  # (n,) str, sorted
    idf: np.ndarray  # (n,) float32
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    # the weight an n-gram outside the vocabulary gets in a text's length (see ``vector``)
    _rarest: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {str(gram): i for i, gram in enumerate(self.vocabulary)})
        object.__setattr__(self, "_rarest", float(self.idf.max()) if len(self.idf) else 1.0)

    @classmethod
    def fit(cls, texts: Sequence[str]) -> GramSpace:
        """The n-grams found in at least ``MIN_TEXTS`` of ``texts``; idf as scikit-learn's smooth
        idf, ln((1 + n) / (1 + df)) + 1, so a gram every text has still counts a little."""
        df: Counter[str] = Counter()
        for text in texts:
            df.update(grams(text).keys())
        vocabulary = sorted(gram for gram, count in df.items() if count >= MIN_TEXTS)
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[gram])) + 1.0 for gram in vocabulary], dtype=np.float32)
        return cls(np.array(vocabulary, dtype=str), idf)

    def __len__(self) -> int:
        return len(self.idf)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``text`` as (indices, values): sublinear tf (1 + ln count) × idf, divided by the length of
        the text's whole n-gram vector — n-grams outside the vocabulary count there with the
        highest idf, as the rarest known ones. A text that shares one common n-gram («по») with
        the menu therefore gets a short vector, not a unit one that would let that n-gram decide:
        with only known n-grams normalised, «деньги за покупку не вернули» went to delivery on the
        strength of « по» (from «посылку»)."""
        indices: list[int] = []
        values: list[float] = []
        unknown = 0.0
        for gram, count in grams(text).items():
            tf = 1.0 + math.log(count)
            index = self._index.get(gram)
            if index is None:
                unknown += (tf * self._rarest) ** 2
            else:
                indices.append(index)
                values.append(tf * float(self.idf[index]))
        weights = np.array(values, dtype=np.float32)
        length = math.sqrt(float(weights @ weights) + unknown)
        if length > 0:
            weights /= length
        return np.array(indices, dtype=np.intp), weights

    def matrix(self, texts: Sequence[str]) -> Any:
        """``texts`` as rows of a scipy CSR matrix, for training (scipy comes with scikit-learn)."""
        from scipy.sparse import csr_matrix

        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            indices, weights = self.vector(text)
            rows.extend([row] * len(indices))
            columns.extend(indices.tolist())
            values.extend(weights.tolist())
        return csr_matrix((values, (rows, columns)), shape=(len(texts), len(self)), dtype=np.float32)
