"""A menu's choices learned from their evidence: which choice a caller's sentence belongs to.

The router's meaning scores are nearest-neighbour cosines: a choice is as near as its three nearest
evidence texts. That ranks well but separates neighbours poorly — «где у вас чат на сайте» sits
0.01 from the tech pages because every text about the site is near it. A classifier trained on the
same evidence learns *which directions* tell one choice from the others, not only how far a text
is: multinomial logistic regression over two views of each text — its sentence vector and its
character n-grams (``char_grams``: the one word the encoder blurs, «чат» against «сайт», and
Vosk's spellings of it) — the standard strong head for intent detection with a few dozen examples
per intent.

Measured on tests/understanding/eval_gosuslugi.yaml (phrasings written apart from the flow; top-1
among the menu's choices, before any threshold, tune / report split): nearest neighbours 95.7 /
93.4 % (an earlier flow), this classifier on sentence vectors alone 97.8 / 97.3 %, with the n-grams
99.3 / 98.9 % (``GRAM_WEIGHT``).
The router uses it where words and cosines leave a question or cannot route (see
``semantic.Router``); over the main menu's 41 choices it is not asked to say "none of these" —
the cosines' «stands out of the menu» decides that.

Training is scikit-learn's (a well-kept solver; the model is a few hundred kB of weights). It runs
when ``ivr index`` writes a flow's vector store, which ships the weights, and otherwise once per
distinct evidence on first use (0.02–0.3 s a menu on one core), kept in the disk cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.understanding.char_grams import GramSpace

log = logging.getLogger(__name__)

# Inverse regularisation strength. Measured top-1 on the evaluation set's tune / report splits
# (sentence vectors only): C 1 → 79.1 / 79.8 %, 3 → 92.4 / 92.3 %, 10 → 97.5 / 95.6 %, 30 → 97.8 /
# 96.7 %, 100 → the same as 30. Evidence texts are few per choice (about 20), so a strong penalty
# pulls every choice towards the menu's average; at 30 the weights fit the evidence and still
# generalise.
C = 30.0
# How much the character n-grams (``char_grams``) weigh beside the sentence vector (both at most
# unit length). Top-1 on the tune / report splits, every menu with a classifier, on the shipped
# flow (2,576 texts): vectors alone 97.8 / 97.3 %; with n-grams at 0.5 → 98.5 / 99.2 %, 1 → 99.3 /
# 98.9 %, 2 → 98.1 / 98.9 % (on the flow before this session's examples: 98.1 / 97.7 % alone, 98.9 /
# 98.9 % at 1). Chosen on the tune split: the words the encoder blurs decide between neighbours;
# with more weight the spelling of one example outvotes the meaning of the rest.
GRAM_WEIGHT = 1.0
# Bump when what a trained classifier is, or how it is stored, changes.
_FORMAT = 3


@dataclass(frozen=True)
class ChoiceClassifier:
    """Softmax weights over a menu's choices (rows in the order of the menu's choice ids), over the
    sentence vector and the character n-grams of what the caller said."""

    weights: np.ndarray  # (choices, dimension), float32: on the sentence vector
    bias: np.ndarray  # (choices,), float32
    grams: GramSpace
    gram_weights: np.ndarray  # (choices, len(grams)), float32: on the n-gram vector

    def probabilities(self, query: np.ndarray, text: str) -> np.ndarray:
        """The probability of each choice for one caller's text and its query vector (they sum to 1)."""
        indices, values = self.grams.vector(text)
        logits = self.weights @ query + self.bias + GRAM_WEIGHT * (self.gram_weights[:, indices] @ values)
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def valid_for(self, choices: int, dimension: int) -> bool:
        arrays = (self.weights, self.bias, self.gram_weights, self.grams.idf)
        return (
            self.weights.shape == (choices, dimension)
            and self.bias.shape == (choices,)
            and self.gram_weights.shape == (choices, len(self.grams))
            and self.grams.vocabulary.shape == self.grams.idf.shape
            and all(bool(np.isfinite(a).all()) for a in arrays)
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``from_arrays`` reads back: the one layout of the disk cache and the vector store."""
        return {
            "weights": self.weights,
            "bias": self.bias,
            "grams": self.grams.vocabulary,
            "idf": self.grams.idf,
            "gram_weights": self.gram_weights,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ChoiceClassifier:
        """A classifier from ``arrays()``; KeyError when one is missing (an older format)."""

        def floats(name: str) -> np.ndarray:
            return np.asarray(arrays[name], dtype=np.float32)

        grams = GramSpace(np.asarray(arrays["grams"], dtype=str), floats("idf"))
        return cls(floats("weights"), floats("bias"), grams, floats("gram_weights"))


def classifier_key(vectors: np.ndarray, owners: np.ndarray, choices: int, texts: Sequence[str]) -> str:
    """What a classifier is a function of: the evidence texts and their vectors, whose choice each
    is, and the constants above."""
    digest = hashlib.sha256(f"{_FORMAT}/{C}/{GRAM_WEIGHT}/{choices}/{vectors.shape}".encode())
    digest.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(owners, dtype=np.int64).tobytes())
    digest.update("\n".join(texts).encode("utf-8"))
    return digest.hexdigest()[:32]


def fit(
    vectors: np.ndarray, owners: np.ndarray, choices: int, texts: Sequence[str]
) -> ChoiceClassifier | None:
    """Train on a menu's evidence (row i of ``vectors`` is the vector of ``texts[i]`` and belongs to
    choice ``owners[i]``); None when fewer than two choices have evidence (nothing to tell apart)."""
    present = np.unique(owners)
    if present.size < 2:
        return None
    # Imported here: a shipped or cached classifier never loads scikit-learn (≈ 1.5 s, +40 MB).
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    grams = GramSpace.fit(texts)
    features = hstack([csr_matrix(vectors), grams.matrix(texts) * GRAM_WEIGHT]).tocsr()
    # One BLAS thread: with the default pool a fit on a busy two-core machine took 7.9 s instead
    # of 0.28 s (threads fighting over the cores the caller's turn also needs).
    with threadpool_limits(limits=1):
        model = LogisticRegression(C=C, max_iter=3000).fit(features, owners)
    dimension = vectors.shape[1]
    weights = np.zeros((choices, features.shape[1]), dtype=np.float32)
    # a choice without evidence can never be the answer
    bias = np.full(choices, -1e4, dtype=np.float32)
    if present.size == 2:  # scikit-learn keeps one row for two classes: w for class 1, -w for 0
        rows = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
        intercepts = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
    else:
        rows, intercepts = model.coef_, model.intercept_
    for row, owner in enumerate(model.classes_):
        weights[owner] = rows[row]
        bias[owner] = intercepts[row]
    return ChoiceClassifier(
        np.ascontiguousarray(weights[:, :dimension]),
        bias,
        grams,
        np.ascontiguousarray(weights[:, dimension:]),
    )


def write(path: Path, classifier: ChoiceClassifier) -> None:
    """Store a classifier atomically (``np.savez``); a folder that cannot be written is the
    caller's to handle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    np.savez(tmp, allow_pickle=False, **classifier.arrays())
    os.replace(tmp, path)


def read(path: Path) -> ChoiceClassifier | None:
    """A stored classifier, or None when the file is missing or not what ``write`` writes."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return ChoiceClassifier.from_arrays(data)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or older file is only a miss
        log.info("classifier %s unreadable (%s); trained again", path, exc)
        return None
