"""The spoken rehearsal end to end, on real components: the caller's speech enters through the
(virtual) microphone, Vosk recognizes it with the state's grammar, the engine routes it, pyttsx3
speaks the answer to the (virtual) speaker. Also ``audio:`` convo steps through the same code."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console

from ivr.channels.practice import VoiceCall, VoiceIO
from ivr.convo.runner import Runner
from ivr.engine import Engine
from ivr.engine.clock import system_clock
from ivr.hearing import grammar_for
from ivr.voice.keypad import KeypadQueue
from ivr.voice.playback import open_player
from ivr.voice.sources import MicrophoneSource
from ivr.voice.stt import VoskRecognizer
from ivr.voice.tts import Synthesizer
from tests.command import ivr_here
from tests.voice.helpers import HELLO, THANKS, YES, silence, terminal_rows

FLOW = Path(__file__).parent / "flows" / "ko_menu.yaml"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_file(FLOW)


def test_menu_grammar_is_the_options_and_globals(engine):
    call = engine.start_call()
    assert grammar_for(call.expecting()) == [HELLO, THANKS, "один", "два"]
    call.dtmf("1")
    digits = grammar_for(call.expecting())
    assert "девятьсот" in digits and "ноль" in digits and HELLO not in digits


@pytest.mark.usefixtures("pulse_server")
def test_spoken_call_through_microphone_and_speaker(pulse_server, engine, ko_model_path, ko_model, mic_feeder,
                                                    korean_samples, tmp_path):
    call = engine.start_call()
    player = open_player()
    keypad = KeypadQueue()
    try:
        with MicrophoneSource() as mic:
            io = VoiceIO(mic, VoskRecognizer(ko_model_path), player, Synthesizer(cache_dir=tmp_path), keypad)
            voice = VoiceCall(io, console=Console(quiet=True))
            since = time.monotonic()
            playing = voice.speak(call.greeting)
            assert playing > 1.0 and player.is_playing
            mic_feeder.say(np.concatenate([silence(0.5), korean_samples(HELLO)]))  # barge in
            inp = voice.hear(call, playing)
            assert player.last.interrupted, "the caller's speech stops the prompt"
            assert (inp.kind, inp.text) == ("speech", HELLO)
            turn = call.handle(inp)
            assert turn.choice_id == "hello" and call.state == "hello"
            playing = voice.speak(turn.said)
            keypad.push("123456#")  # keys pressed while listening
            inp = voice.hear(call, playing)
            assert (inp.kind, inp.text) == ("dtmf", "123456")  # "#" ends the entry
            call.handle(inp)
    finally:
        # a stream left playing is closed by the garbage collector at an arbitrary moment, which
        # once aborted the next test's microphone stream (PortAudio from two threads)
        player.close()

    assert call.state == "done" and call.slots["code"].value == "123456"
    assert pulse_server.speaker.loud_times(since=since), "the answers reached the speaker"


@pytest.mark.usefixtures("pulse_server")
def test_a_microphone_that_stops_mid_call_keeps_the_call_its_report_and_recording(engine, ko_model_path, ko_model,
                                                                                   mic_feeder, korean_samples,
                                                                                   tmp_path):
    """A recorded call (--record) whose microphone goes quiet after the first answer (the feeder
    stops writing, as a USB headset unplugged): the caller is told and finishes by keyboard; the
    report holds both the spoken and the typed turn; the recording keeps both sides — the caller
    on the left channel, the prompts as played (cut by barge-in) on the right — in one 16 kHz WAV
    next to the transcript, readable by its owner only."""
    import threading

    import soundfile as sf

    from ivr.channels.practice import continue_typed, save_recording, speak_call
    from ivr.channels.session import Session
    from ivr.settings import VoiceSettings
    from ivr.voice.recording import CallRecording

    terminal = io.StringIO()  # a terminal: the live status line is drawn, and must be gone after the fault
    console = Console(file=terminal, force_terminal=True, color_system=None, record=True, width=200)
    session = Session(tmp_path / "reports", False)
    call, transcript = session.open(engine, system_clock)
    recording = CallRecording()
    mic_feeder.say(np.concatenate([silence(1.0), korean_samples(HELLO), silence(1.5)]))

    def unplug() -> None:
        mic_feeder.wait_idle(30)
        mic_feeder.stop()

    threading.Thread(target=unplug, daemon=True).start()
    player = open_player()
    try:
        fault = speak_call(call, lambda: MicrophoneSource(stall_timeout_s=1.0), VoskRecognizer(ko_model_path),
                           player, Synthesizer(cache_dir=tmp_path), KeypadQueue(),
                           VoiceSettings(early_commit=True), console, recording)
    finally:
        player.close()
    assert fault is not None and "Микрофон не присылает звук" in fault
    assert call.state == "hello" and not call.ended, "the spoken turn counted and the call goes on"

    typed = iter(["123456"])

    def keyboard(prompt: str) -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    continue_typed(call, fault, console, read_line=keyboard)
    session.close(call, transcript, console)
    screen = console.export_text()
    assert "Звук прервался" in screen and "Продолжаем звонок текстом" in screen
    rows = terminal_rows(terminal.getvalue(), 200)
    assert not [row for row in rows if row.startswith(("[говорит автоответчик]", "[слушаю]", "[слышу вас]"))], rows
    assert call.state == "done" and call.slots["code"].value == "123456"
    report = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    assert "Тестовое меню для корейской модели" in report
    lines = transcript.read_text(encoding="utf-8")
    assert HELLO in lines and '"dtmf"' in lines

    path = save_recording(recording, transcript, None, console)
    assert path == transcript.parent / transcript.name.replace(".transcript.jsonl", ".wav")
    assert path.stat().st_mode & 0o777 == 0o600
    audio, rate = sf.read(path, dtype="int16")
    assert rate == 16000 and audio.ndim == 2 and audio.shape[1] == 2
    caller, simulator = np.abs(audio[:, 0].astype(np.int32)), np.abs(audio[:, 1].astype(np.int32))
    assert caller.max() > 1000 and simulator.max() > 1000, "both sides are in it"
    # the caller spoke over the greeting and it stopped: the simulator's side falls silent while
    # the caller speaks, then the next prompt comes
    first_word = np.flatnonzero(caller > 2000)[0]
    assert simulator[first_word : first_word + rate // 2].max() < simulator.max()
    assert audio.shape[0] / rate > 2.5


def test_silence_from_the_microphone_raises_noinput(ko_model_path, ko_model, pulse_server, mic_feeder, tmp_path):
    # the same menu, but the caller's silence is judged after 1 s instead of the default 7 s
    doc = yaml.safe_load(FLOW.read_text(encoding="utf-8"))
    doc["flow"]["noinput_timeout"] = 1.0
    quick = tmp_path / "ko_menu_quick.yaml"
    quick.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    engine = Engine.from_file(quick)
    call = engine.start_call()
    assert call.expecting().noinput_timeout == 1.0
    with MicrophoneSource() as mic:
        voice = VoiceCall(VoiceIO(mic, VoskRecognizer(ko_model_path)), console=Console(quiet=True))
        inp = voice.hear(call, 0.0)
    assert inp.kind == "silence"
    assert call.handle(inp).event == "noinput"


def test_recorded_caller_in_a_convo_file(tmp_path, korean_wav, ko_model_path, ko_model, monkeypatch):
    monkeypatch.setenv("IVR_VOSK_MODEL", str(ko_model_path))
    (tmp_path / "hello.wav").write_bytes(korean_wav(HELLO).read_bytes())
    convo = tmp_path / "spoken.yaml"
    convo.write_text(f"flow: {FLOW}\nturns:\n"
                     "  - audio: hello.wav\n    expect: {state: hello, match: hello}\n"
                     "  - dtmf: '654321'\n    expect: {state: done, slots: {code: '654321'}}\n",
                     encoding="utf-8")
    result = Runner(FLOW).run_file(convo)
    assert result.ok, result.failures
    assert result.turns[0].input == HELLO and result.turns[0].kind == "speech"


def test_speech_without_words_is_a_miss_to_repeat_not_silence(tmp_path, ko_model_path, ko_model, monkeypatch):
    """A burst of noise makes Vosk start a word (a partial result) and then keep none: the caller
    made a sound, so the answer is «Не расслышал…», never «Я вас не слышу»."""
    import soundfile as sf

    monkeypatch.setenv("IVR_VOSK_MODEL", str(ko_model_path))
    noise = np.random.default_rng(0).normal(0, 3000, 8000).astype(np.int16)
    sf.write(tmp_path / "noise.wav", np.concatenate([silence(0.3), noise, silence(2.0)]), 16000)
    convo = tmp_path / "noise.yaml"
    convo.write_text(f"flow: {FLOW}\nturns:\n"
                     "  - audio: noise.wav\n    expect: {state: main, event: nomatch, says: Не расслышал}\n",
                     encoding="utf-8")
    result = Runner(FLOW).run_file(convo)
    assert result.ok, result.failures
    assert result.turns[0].kind == "speech" and result.turns[0].input == ""


@pytest.mark.parametrize(("caller", "volume", "says", "shown"), [
    (YES, 1.0, "Не расслышал", "Вы: … (не разобрать)"),  # voice, and no word: «네» is not in the menu's grammar
    (HELLO, 0.03, "Вас очень тихо слышно", "Вы: … (очень тихо)"),  # −30 dB: the right words, too faint for Vosk
])
def test_voice_without_words_is_a_miss_never_silence(tmp_path, engine, ko_model_path, ko_model, korean_samples,
                                                     monkeypatch, caller, volume, says, shown):
    """Vosk gives no word at all for these (not even a partial), as from a microphone: half a
    second of silence, then the caller. Voice activity, not Vosk's words, says the caller spoke —
    in a convo ``audio:`` step and on the practice screen alike."""
    import soundfile as sf

    from ivr.voice.sources import WavSource

    monkeypatch.setenv("IVR_VOSK_MODEL", str(ko_model_path))
    voice = (korean_samples(caller) * volume).astype(np.int16)
    audio = np.concatenate([silence(0.5), voice])
    console = Console(record=True, width=120)
    practice = VoiceCall(VoiceIO(WavSource.from_samples(audio), VoskRecognizer(ko_model_path)), console=console)
    assert practice.next_input(engine.start_call()).kind == "speech"
    assert shown in console.export_text()
    sf.write(tmp_path / "caller.wav", audio, 16000)
    convo = tmp_path / "caller.yaml"
    convo.write_text(f"flow: {FLOW}\nturns:\n"
                     f"  - audio: caller.wav\n    expect: {{state: main, event: nomatch, says: {says}}}\n",
                     encoding="utf-8")
    result = Runner(FLOW).run_file(convo)
    assert result.ok, result.failures
    assert result.turns[0].kind == "speech" and result.turns[0].input == ""


def test_a_key_pressed_during_a_prompt_stops_it_as_speech_would(engine, ko_model_path, ko_model, tmp_path):
    """DTMF barge-in: the caller who already knows the menu presses 1 over the greeting; the prompt
    stops at once instead of playing on while the key is handled."""
    from ivr.voice.playback import FileSinkPlayer
    from ivr.voice.sources import WavSource

    call = engine.start_call()
    keypad = KeypadQueue()
    player = FileSinkPlayer(tmp_path / "out.wav", realtime=False)
    voice = VoiceCall(VoiceIO(WavSource.from_samples(silence(0.2)), VoskRecognizer(ko_model_path), player,
                              Synthesizer(cache_dir=tmp_path), keypad), console=Console(quiet=True))
    playing = voice.speak(["Главное меню."])
    assert playing > 0.5 and player.is_playing
    keypad.push("1")
    inp = voice.hear(call, playing)
    assert (inp.kind, inp.text) == ("dtmf", "1")
    assert player.last is not None and player.last.interrupted and not player.is_playing


def test_the_live_partial_line_is_replaced_by_the_callers_final_words(engine, ko_model_path, ko_model, korean_wav):
    """On a terminal the words heard so far show on one line; the caller's final line replaces it
    instead of being glued to its end («… 안녕하세요Вы: 안녕하세요»)."""
    from ivr.voice.sources import WavSource

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    call = engine.start_call()
    voice = VoiceCall(VoiceIO(WavSource(korean_wav(HELLO), leading_silence_s=0.3, trailing_silence_s=2.0),
                              VoskRecognizer(ko_model_path)), console=console, live_partials=True)
    inp = voice.next_input(call)
    assert (inp.kind, inp.text) == ("speech", HELLO)
    text = screen.getvalue()
    assert "\r\x1b[K[слушаю] ··········" in text, "listening, the microphone still quiet"
    assert "[слышу вас] ███" in text, "the caller's voice moves the level meter"
    assert f"… {HELLO}" in text, "the partial result was shown"
    last_partial_end = text.rindex("\r\x1b[K")
    assert text[last_partial_end:].startswith("\r\x1b[KВы: ") or "\nВы:" in text[last_partial_end:]
    assert f"{HELLO}Вы:" not in text
    voice.status.key("1")
    voice.status.key("2")
    assert screen.getvalue().endswith("кнопки: 12"), "keys typed without terminal echo are shown"


def test_broken_audio_in_a_convo_names_the_file(tmp_path, ko_model_path, monkeypatch):
    from ivr.errors import AudioFileError

    monkeypatch.setenv("IVR_VOSK_MODEL", str(ko_model_path))
    (tmp_path / "bad.wav").write_text("not audio", encoding="utf-8")
    convo = tmp_path / "bad.yaml"
    convo.write_text(f"flow: {FLOW}\nturns:\n  - audio: bad.wav\n", encoding="utf-8")
    with pytest.raises(AudioFileError, match="bad.wav"):
        Runner(FLOW).run_file(convo)


def test_check_reports_menu_words_the_model_lacks(ko_model_path):
    root = Path(__file__).resolve().parents[2]
    proc = ivr_here("check", root / "flows" / "example.yaml", "--model", ko_model_path)
    assert proc.returncode == 0, proc.stderr
    assert "В словаре модели нет" in proc.stdout and "продлить" in proc.stdout


@pytest.mark.usefixtures("pulse_server")
def test_ivr_practice_command_end_to_end(ko_model_path, pulse_server, mic_feeder, korean_samples, tmp_path):
    """The real command: loads the model, greets through the speaker, hears the caller through the
    microphone, ends the call, prints the take-away summary and writes the report."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **pulse_server.env_client()}  # the run's shared cache: prompts synthesized once
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr", "practice", str(FLOW), "--model", str(ko_model_path),
         "--reports", str(tmp_path / "reports")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline:
        mic_feeder.say(np.concatenate([silence(0.5), korean_samples(THANKS), silence(2.0)]))
        # once the call is over nobody records the microphone, so the feeder would not get idle
        while not mic_feeder.wait_idle(0.1) and proc.poll() is None and time.monotonic() < deadline:
            pass
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Главное меню" in out and f"Вы: {THANKS}" in out and "До свидания" in out
    assert "Голосовой режим недоступен" not in out
    # the key words «один», «два» are not Korean: the warning goes to the log, not the call screen
    assert "Слова отсутствуют" not in out + err and "Сообщения звуковой системы и модели за звонок" in out
    assert list((tmp_path / "reports").glob("*.md")) and list((tmp_path / "reports").glob("*.transcript.jsonl"))
    # the hang-up summary says where the report is (the checklist panel comes only with items to prepare)
    (report,) = (tmp_path / "reports").glob("*.md")
    assert f"Отчёт: {report}" in " ".join(out.split()), out


def test_push_to_talk_hears_the_caller_only_after_the_key_and_the_key_stops_the_prompt(engine, ko_model_path,
                                                                                        ko_model, korean_samples):
    """--push-to-talk for a noisy room: the same words into an open microphone are not heard until
    the space bar is pressed; pressing it cuts the prompt, as speaking over it would."""
    from ivr.voice.playback import FileSinkPlayer
    from ivr.voice.push_to_talk import PushToTalk
    from ivr.voice.sources import WavSource

    call = engine.start_call()
    said = np.concatenate([silence(0.3), korean_samples(HELLO)])
    wait = silence(call.expecting().noinput_timeout + 0.5)  # the first turn's no-input timer runs out
    source = WavSource.from_samples(np.concatenate([said, wait, said]), trailing_silence_s=None)
    player = FileSinkPlayer(None, realtime=False)
    voice = VoiceCall(VoiceIO(source, VoskRecognizer(ko_model_path), player, push_to_talk=PushToTalk()),
                      console=Console(quiet=True))
    assert voice.hear(call, 0.0).kind == "silence", "an open microphone is not heard while the key is off"
    player.play(np.ones(22050 * 5, dtype=np.int16), 22050)
    voice.talk_key()
    assert player.last.interrupted, "pressing the key to talk stops the prompt"
    inp = voice.hear(call, 0.0)
    assert (inp.kind, inp.text) == ("speech", HELLO)
