"""VoskRecognizer on the real Korean Vosk model with real (espeak-ng) Korean speech."""

from __future__ import annotations

import logging
import subprocess

import numpy as np
import pytest
from rapidfuzz import fuzz

from ivr.voice.audio import read_audio
from ivr.voice.stt import (
    UNK,
    Final,
    Partial,
    SpeechRecognizer,
    VoskRecognizer,
    normalize_phrase,
    recognize_all,
)
from ivr.voice.vocabulary import model_vocabulary, read_fst_output_symbols, read_words_txt
from tests.voice.helpers import HELLO, NO, THANKS, YES, silence


def recognize(recognizer: VoskRecognizer, samples: np.ndarray, grammar=None, chunk=1280) -> str:
    audio = np.concatenate([silence(0.3), samples, silence(1.5)]).tobytes()
    return recognize_all(recognizer, audio, grammar, chunk_bytes=chunk)


def test_implements_the_protocol(recognizer):
    assert isinstance(recognizer, SpeechRecognizer)
    assert recognizer.sample_rate == 16000


def test_open_vocabulary_recognises_something(recognizer, korean_samples):
    text = recognize(recognizer, korean_samples(HELLO))
    assert text.strip(), "open-vocabulary recognition returned nothing"


def test_grammar_recognises_the_phrase(recognizer, korean_samples):
    assert recognize(recognizer, korean_samples(HELLO), [HELLO, THANKS]) == HELLO
    assert recognize(recognizer, korean_samples(THANKS), [HELLO, THANKS]) == THANKS


def test_grammar_restricts_output_to_grammar_words(recognizer, korean_samples):
    grammar = [YES, NO, HELLO]
    allowed = {w for p in grammar for w in p.split()} | {UNK}
    for phrase in ("오늘 날씨가 좋네요", THANKS, NO):
        text = recognize(recognizer, korean_samples(phrase), grammar)
        assert set(text.split()) <= allowed, f"{phrase!r} → {text!r} left the grammar"


def test_partials_then_final(recognizer, korean_samples):
    recognizer.start([HELLO, THANKS])
    audio = np.concatenate([silence(0.3), korean_samples(HELLO), silence(2.0)]).tobytes()
    seen = []
    for i in range(0, len(audio), 1280):
        result = recognizer.accept(audio[i : i + 1280])
        if result is not None:
            seen.append(result)
        if isinstance(result, Final):
            break
    assert any(isinstance(r, Partial) and r.text == HELLO for r in seen)
    final = seen[-1]
    assert isinstance(final, Final) and final.text == HELLO
    assert final.words and final.words[0].text == HELLO
    assert 0.2 < final.words[0].start < final.words[0].end < 2.5


def test_resampled_44k_stereo_recognises_the_same(recognizer, korean_wav, tmp_path):
    src = korean_wav(HELLO)
    stereo = tmp_path / "hello_44k_stereo.wav"
    subprocess.run(["sox", str(src), "-r", "44100", "-c", "2", str(stereo)], check=True)
    original, converted = read_audio(src), read_audio(stereo)
    assert abs(original.size - converted.size) <= 2
    assert recognize(recognizer, converted, [HELLO, THANKS]) == recognize(recognizer, original, [HELLO, THANKS]) == HELLO
    # Open vocabulary: the same words give or take a syllable. Exact equality held in one process
    # but not always on a test worker whose shared Korean model had decoded other audio before
    # (Vosk's output for the same samples drifted by a syllable); broken resampling gives
    # unrelated text, far below this bar.
    free_converted, free_original = recognize(recognizer, converted), recognize(recognizer, original)
    assert fuzz.ratio(free_converted, free_original) >= 60, (free_converted, free_original)


def test_vocabulary_comes_from_gr_fst_when_there_is_no_words_txt(ko_model_path):
    assert not (ko_model_path / "graph" / "words.txt").exists(), "the test model is expected to lack words.txt"
    vocab = model_vocabulary(ko_model_path)
    assert vocab is not None and len(vocab) > 100_000
    assert {HELLO, THANKS, YES, NO} <= vocab
    assert UNK not in vocab  # the Korean model has no [unk]
    assert read_fst_output_symbols(ko_model_path / "graph" / "Gr.fst") == vocab


def test_words_txt_is_preferred(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text("<eps> 0\n[unk] 1\nоператор 2\nда 3\n", encoding="utf-8")
    assert read_words_txt(tmp_path / "graph" / "words.txt") == {"<eps>", "[unk]", "оператор", "да"}
    assert model_vocabulary(tmp_path) == {"<eps>", "[unk]", "оператор", "да"}


def test_missing_words_are_reported_once_and_their_phrases_left_out(recognizer, caplog, capfd):
    phrases = [HELLO, "оператор", f"{THANKS} zzqx", THANKS]
    assert recognizer.missing_words(phrases) == {"оператор", "zzqx"}
    with caplog.at_level(logging.WARNING, logger="ivr.voice.stt"):
        recognizer.start(phrases)
        recognizer.start(phrases)
    assert recognizer.active_grammar == [HELLO, THANKS]
    assert recognizer.dropped_phrases == ["оператор", f"{THANKS} zzqx"]
    warnings = [r for r in caplog.records if "оператор" in r.getMessage()]
    assert len(warnings) == 1, "missing words must be reported once, not per turn"
    assert "zzqx" in warnings[0].getMessage()
    _, err = capfd.readouterr()
    assert "Ignoring word missing" not in err, "Vosk itself must never see out-of-vocabulary words"


def test_unk_is_added_only_when_the_model_has_it(recognizer):
    recognizer.start([HELLO])
    assert recognizer.has_unk is False
    assert recognizer.active_grammar == [HELLO]


def test_grammar_is_normalised(recognizer):
    recognizer.start([f"  {HELLO}!  ", HELLO, f"{THANKS}."])
    assert recognizer.active_grammar == [HELLO, THANKS]
    assert normalize_phrase("Соедините с ОПЕРАТОРОМ, пожалуйста!") == "соедините с оператором пожалуйста"


def test_grammar_with_only_unknown_words_falls_back_to_free_speech(recognizer, korean_samples):
    recognizer.start(["оператор", "помощь"])
    assert recognizer.active_grammar is None
    assert recognize(recognizer, korean_samples(HELLO), ["оператор", "помощь"]).strip()


def test_accept_before_start_is_a_programming_error(ko_model_path, ko_model):
    fresh = VoskRecognizer(ko_model_path)
    with pytest.raises(RuntimeError):
        fresh.accept(bytes(640))


def test_vosk_logging_is_silenced(ko_model_path, ko_model, capfd):
    rec = VoskRecognizer(ko_model_path)
    rec.start([HELLO])
    rec.accept(bytes(3200))
    rec.finish()
    _, err = capfd.readouterr()
    assert "VoskAPI" not in err and "LOG (" not in err


def test_during_a_call_library_chatter_and_warnings_go_to_the_log_not_the_screen(recognizer, tmp_path, capfd):
    """The call screen used to carry «WARNING:ivr.voice.stt» lines hundreds of words long and
    ALSA's messages, which C code writes straight to descriptor 2."""
    import ctypes
    import sys

    from ivr.voice.stdio import chatter_to_log

    log = tmp_path / "logs" / "practice.log"
    with chatter_to_log(log) as call_log:
        recognizer.start([HELLO, "ззквыкс"])  # a word the model lacks: a warning
        ctypes.CDLL(None).dprintf(2, b"ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred\n")
    out, err = capfd.readouterr()
    assert "ззквыкс" not in err and "ALSA" not in err and not out
    written = log.read_text(encoding="utf-8")
    assert call_log.written and "ззквыкс" in written and "underrun occurred" in written
    print("after the call", file=sys.stderr)
    assert "after the call" in capfd.readouterr().err, "the screen is given back"
