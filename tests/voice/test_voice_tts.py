"""pyttsx3 on espeak-ng, for real: 50 prompts in a row, the cache, and a clean stdout."""

from __future__ import annotations

import contextlib
import os
import signal

import numpy as np
import pytest
import soundfile as sf

from ivr.errors import UserError
from ivr.voice import tts
from ivr.voice.tts import Synthesizer

SUBJECTS = [
    "паспорт", "СНИЛС", "ИНН", "полис ОМС", "водительское удостоверение", "загранпаспорт",
    "пособие", "выписку", "запись к врачу", "штраф", "налоговый вычет", "прописку",
    "электронную подпись", "справку о несудимости", "пенсию", "материнский капитал",
    "заявление в ЗАГС", "госпошлину", "больничный", "субсидию", "пропуск", "лицензию",
    "восстановление пароля", "подтверждение учётной записи", "смену телефона",
]


def prompts() -> list[str]:
    out = []
    for i, subject in enumerate(SUBJECTS):
        out.append(f"Чтобы узнать про {subject}, нажмите {i % 9 + 1}.")
        out.append(f"Вы выбрали {subject}. Если всё верно, скажите «да»; если нет, скажите «нет» или дождитесь оператора.")
    return out


@pytest.fixture
def synth(tmp_path) -> Synthesizer:
    return Synthesizer(voice="ru", cache_dir=tmp_path / "tts")


def test_russian_voice_is_found_by_language(synth):
    assert "ru" in synth.voice_info.languages
    assert synth.voice_info.id.endswith("ru")


def test_fifty_prompts_in_a_row_each_give_a_plausible_wav(synth, capfd):
    texts = prompts()
    assert len(texts) == 50 and len(set(texts)) == 50
    paths = [synth.synth(t) for t in texts]
    assert len(set(paths)) == 50
    digests = set()
    for text, path in zip(texts, paths):
        data, rate = sf.read(path, dtype="int16")
        assert rate > 8000 and data.ndim == 1
        duration = data.size / rate
        spoken = synth.spoken_text(text)
        # espeak-ng at its default rate says ~16 characters a second
        assert 0.4 * len(spoken) / 16 <= duration <= 2.5 * len(spoken) / 16 + 0.8, (text, duration)
        assert np.abs(data.astype(np.int32)).max() > 1000, f"silent audio for {text!r}"
        digests.add(data.tobytes().__hash__())
    assert len(digests) == 50, "two prompts got the same audio"
    assert synth.synthesized == 50
    out, _ = capfd.readouterr()
    assert out == "", f"the speech engine wrote to stdout: {out[:200]!r}"


def test_cache_hit_does_not_synthesize_again(synth, capfd):
    first = synth.synth("Соединяю с оператором, оставайтесь на линии.")
    mtime = first.stat().st_mtime_ns
    count = synth.synthesized
    again = synth.synth("Соединяю с оператором, оставайтесь на линии.")
    assert again == first and again.stat().st_mtime_ns == mtime
    assert synth.synthesized == count and synth.cache_hits == 1
    other = Synthesizer(voice="ru", cache_dir=synth.cache_dir)  # a new process would do the same
    assert other.synth("Соединяю с оператором, оставайтесь на линии.") == first and other.synthesized == 0
    assert capfd.readouterr().out == ""


def test_cache_key_depends_on_text_voice_and_rate(tmp_path):
    a = Synthesizer(cache_dir=tmp_path)
    b = Synthesizer(cache_dir=tmp_path, rate=220)
    assert a.cache_path("Добрый день") != a.cache_path("Добрый вечер")
    assert a.cache_path("Добрый день") != b.cache_path("Добрый день")
    assert a.cache_path("Нажмите 1") == a.cache_path("Нажмите один"), "numbers are spoken as words"


def test_faster_rate_gives_shorter_audio(tmp_path):
    text = "Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги."
    slow = sf.info(Synthesizer(cache_dir=tmp_path, rate=130).synth(text)).duration
    fast = sf.info(Synthesizer(cache_dir=tmp_path, rate=260).synth(text)).duration
    assert fast < 0.7 * slow


def test_damaged_cache_entry_is_replaced(synth):
    path = synth.synth("Ваш запрос принят.")
    path.write_bytes(path.read_bytes()[:100])
    assert synth.synth("Ваш запрос принят.") == path
    assert sf.info(path).duration > 0.5
    assert synth.synthesized == 2


def test_a_crash_of_espeak_costs_one_attempt_not_the_call(synth):
    """espeak-ng now and then ends its process with a segmentation fault. It runs in a child
    process: this process lives on, and the next prompt starts a new child."""
    synth.synth("Первая подсказка.")
    crashed = tts._CHILD.pid
    assert crashed is not None and crashed != os.getpid()
    os.kill(crashed, signal.SIGSEGV)
    path = synth.synth("Вторая подсказка после сбоя синтезатора.")
    assert sf.info(path).duration > 1.0
    assert tts._CHILD.pid not in (None, crashed)


def test_a_child_that_hangs_is_replaced(synth, monkeypatch):
    """A child that stops answering (stopped, not dead) costs one attempt too."""
    synth.synth("Подсказка до зависания.")
    stuck = tts._CHILD.pid
    assert stuck is not None
    monkeypatch.setattr(tts, "CHILD_TIMEOUT_S", 1.0)
    os.kill(stuck, signal.SIGSTOP)
    try:
        path = synth.synth("Подсказка после зависания синтезатора.")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stuck, signal.SIGKILL)
    assert sf.info(path).duration > 1.0
    assert synth.retries >= 1 and tts._CHILD.pid != stuck


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    synth = Synthesizer()
    assert synth.cache_dir == tmp_path / "cache" / "tts"
    assert synth.synth("Проверка кэша.").parent == tmp_path / "cache" / "tts"


def test_samples_for_playback(synth):
    samples, rate = synth.synth_samples("До свидания!")
    assert samples.dtype == np.int16 and rate == 22050 and samples.size > rate // 4


def test_unknown_voice_is_a_russian_error(tmp_path):
    with pytest.raises(UserError) as err:
        Synthesizer(voice="xx-nonexistent", cache_dir=tmp_path).synth("текст")
    assert "xx-nonexistent" in str(err.value) and "espeak-ng" in str(err.value)


def test_empty_prompt_is_refused(synth):
    with pytest.raises(UserError):
        synth.synth("   ")
    with pytest.raises(UserError):
        synth.synth("…")


def test_rate_out_of_range(tmp_path):
    with pytest.raises(UserError):
        Synthesizer(rate=5, cache_dir=tmp_path)


def test_no_temporary_files_left(synth):
    for text in ("Раз.", "Два.", "Три."):
        synth.synth(text)
    assert not [p for p in os.listdir(synth.cache_dir) if p.startswith(".")]


def test_rate_changes_always_take_effect(tmp_path):
    """Regression: pyttsx3 could cancel a queued rate change, speaking at the previous speed."""
    text = "Для связи с оператором оставайтесь на линии."
    durations = []
    for i, rate in enumerate([130, 260, 130, 260, 130, 260]):
        synth = Synthesizer(cache_dir=tmp_path / str(i), rate=rate)
        durations.append(sf.info(synth.synth(text)).duration)
    slow, fast = durations[0::2], durations[1::2]
    assert max(fast) < 0.7 * min(slow), durations
    assert max(slow) - min(slow) < 0.05 and max(fast) - min(fast) < 0.05, durations


def test_read_backs_of_the_callers_values_are_never_cached_as_audio(tmp_path):
    """The prompt cache names WAVs by a hash of the text: a read-back of a СНИЛС or a name would
    leave the caller's data on disk for ever. Real pyttsx3, real engine; the speaker is a file."""
    from rich.console import Console

    from ivr.channels.practice import VoiceCall, VoiceIO
    from ivr.engine import Engine
    from ivr.flow.loader import parse_flow
    from ivr.voice.playback import FileSinkPlayer

    flow = parse_flow("""
flow: {id: rb, title: R, start: ask}
states:
  ask:
    say: "Назовите СНИЛС."
    collect: {slot: snils, type: snils, on_fail: next, invalid: ["Вы назвали {heard}. Повторите."]}
    next: done
  done: {say: ["Записал СНИЛС {snils}.", "До свидания."], end: true}
""")
    cache = tmp_path / "cache"
    synthesizer = Synthesizer(cache_dir=cache)
    call = Engine(flow).start_call()
    voice = VoiceCall(VoiceIO([], None, FileSinkPlayer(tmp_path / "out.wav", realtime=False), synthesizer),
                      console=Console(quiet=True))
    voice.greeting(call)
    for said in ("112 233 445 90", "112 233 445 95"):
        turn = call.speech(said)
        voice.turn(call, turn)
    assert call.state == "done"
    spoken = ["Назовите СНИЛС.", "До свидания."]
    personal = ["Вы назвали 112 233 445 90. Повторите.", "Записал СНИЛС 112-233-445 95."]
    assert set(personal) <= call.personal_said
    assert all(synthesizer.cache_path(t).exists() for t in spoken)
    assert not any(synthesizer.cache_path(t).exists() for t in personal)
    assert {p.name for p in cache.iterdir()} == {synthesizer.cache_path(t).name for t in spoken}


def test_a_states_details_are_shown_and_never_spoken(tmp_path):
    """``details:`` is the long text of a page: on screen (and in the transcript) after the spoken
    part, never synthesized, so a page stays short on the phone line."""
    import io

    from rich.console import Console

    from ivr.channels.practice import VoiceCall, VoiceIO
    from ivr.engine import Engine
    from ivr.flow.loader import parse_flow
    from ivr.voice.playback import FileSinkPlayer

    flow = parse_flow("""
flow: {id: dt, title: D, start: page}
states:
  page:
    say: "Коротко: сбросьте пароль. Подробности на экране."
    details: "Подробно: кнопка «Забыли пароль?», телефон или почта, одноразовый код."
    options: [{id: done, keys: "1", goto: bye}]
  bye: {say: "До свидания.", end: true}
""")
    cache = tmp_path / "cache"
    synthesizer = Synthesizer(cache_dir=cache)
    screen = io.StringIO()
    call = Engine(flow).start_call()
    voice = VoiceCall(VoiceIO([], None, FileSinkPlayer(tmp_path / "out.wav", realtime=False), synthesizer),
                      console=Console(file=screen, width=200))
    seconds = voice.speak(call.greeting, call.personal_said, call.screen_only)
    detail = "Подробно: кнопка «Забыли пароль?», телефон или почта, одноразовый код."
    assert call.greeting[-1] == detail
    assert f"Подробнее: {detail}" in screen.getvalue()
    assert "Автоответчик: Коротко: сбросьте пароль." in screen.getvalue()
    assert not synthesizer.cache_path(detail).exists()
    assert synthesizer.cache_path(call.greeting[0]).exists()
    assert seconds < sf.info(synthesizer.synth(call.greeting[0])).duration + 1.0


def test_a_wav_still_being_written_is_waited_for_not_failed(tmp_path):
    """espeak writes from its own thread; on a loaded machine the file was still growing when it
    was first checked, and three such attempts failed a prompt (the prompt-audio job of a test
    run). A file that grows to a valid WAV within the settle time is taken."""
    import threading
    import time

    spoken = "Главное меню. Коротко скажите, что случилось."
    seconds = tts.expected_duration_s(spoken, tts.DEFAULT_RATE)
    samples = (np.sin(np.linspace(0, 440 * 2 * np.pi * seconds, int(22050 * seconds))) * 8000).astype(np.int16)
    whole = tmp_path / "whole.wav"
    sf.write(whole, samples, 22050, subtype="PCM_16")
    data = whole.read_bytes()
    growing = tmp_path / "growing.wav"
    growing.write_bytes(data[: len(data) // 10])

    def finish() -> None:
        time.sleep(0.15)  # a stall well within the quiet time
        growing.write_bytes(data)

    writer = threading.Thread(target=finish)
    writer.start()
    assert not tts._valid_wav(growing, spoken, tts.DEFAULT_RATE)  # what the old check saw
    assert tts._written(growing, spoken, tts.DEFAULT_RATE)
    writer.join()
