"""Shared by the tests of the meaning layer (tests/unit/test_semantic.py, test_vector_store.py)."""

from __future__ import annotations

from ivr.understanding.encoder import SentenceEncoder

# A menu of four options: the smallest that decides by meaning (MIN_OPTIONS_FOR_MEANING).
SHOP_MENU = """
flow: {id: shop, title: "Магазин", start: menu}
states:
  menu:
    say: "Что случилось?"
    options:
      - {id: delivery, keys: "1", phrases: ["доставка"], goto: bye}
      - {id: refund, keys: "2", phrases: ["возврат"], goto: bye}
      - {id: size, keys: "3", phrases: ["размер"], goto: bye}
      - {id: address, keys: "4", phrases: ["адрес магазина"], goto: bye}
  bye: {say: "До свидания.", end: true}
"""


class Counting(SentenceEncoder):
    """A real encoder that counts the texts it was asked to encode (``name``: pose as another
    model, for caches keyed by it)."""

    def __init__(self, inner: SentenceEncoder, name: str | None = None):
        self.inner = inner
        self.name = name or inner.name
        self.dimension = inner.dimension
        self.encoded: list[str] = []

    def encode_queries(self, texts):
        self.encoded += list(texts)
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        self.encoded += list(texts)
        return self.inner.encode_passages(texts)
