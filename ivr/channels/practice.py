"""``ivr practice``: the spoken rehearsal — microphone → Vosk → engine → pyttsx3 → speaker.

The loop is hardware-agnostic: it takes any audio source (microphone, WAV file), any player (sound
card, file sink, none) and any recognizer, so the tests run exactly this code on a virtual sound
server. Prompts are played while the recognizer already listens, so a caller who starts speaking
stops the prompt (barge-in), as on a real hotline.

When voice is not possible (no model, no PortAudio, no microphone) the practice still starts: it
says exactly what is missing and how to fix it, and continues as a typed call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from ivr.channels.chat import TYPED_KEYS, ChatView, TypedLines, run_chat, type_call
from ivr.channels.session import Session, hang_up_on_signals
from ivr.channels.status_line import HEARING, LISTENING, PRESS_TO_TALK, SPEAKING, TALKING, StatusLine
from ivr.engine import Call, Engine, Input, Turn
from ivr.engine.clock import Clock, system_clock
from ivr.engine.loop import converse
from ivr.errors import UserError
from ivr.hearing import Ear, menu_phrases
from ivr.keypad import KEYS
from ivr.settings import VoiceSettings
from ivr.understanding.plural import counted
from ivr.voice.keypad import KeypadQueue
from ivr.voice.push_to_talk import KEY as TALK_KEY
from ivr.voice.push_to_talk import PushToTalk
from ivr.voice.recording import CallRecording
from ivr.voice.stdio import chatter_to_log

GAP_S = 0.25  # silence between two prompts of one answer


@dataclass
class VoiceIO:
    """The hardware side of a spoken call; any part may be a stand-in (WAV source, file sink)."""

    source: Iterable[bytes]
    recognizer: Any
    player: Any | None = None  # None: prompts are only printed
    synthesizer: Any | None = None
    keypad: KeypadQueue | None = None
    barge_in: bool = True
    early_commit: bool = True  # in menus, answer after a short pause once the words are decisive
    recording: CallRecording | None = None  # --record: both sides kept for a WAV next to the report
    push_to_talk: PushToTalk | None = None  # --push-to-talk: heard only while toggled on (space)


class VoiceCall:
    """A spoken call as the call loop's input source (the ear) and view (screen and speaker)."""

    def __init__(self, io: VoiceIO, *, console: Console, live_partials: bool = False):
        self.io = io
        self.console = console
        # Who is talking, the microphone's level and the words heard so far, on one line that the
        # next printed line replaces (on a terminal only: elsewhere it would be noise in a log).
        self.status = StatusLine(console, live_partials)
        live = self.status.enabled
        source = io.push_to_talk.gate(io.source) if io.push_to_talk is not None else io.source
        heard = io.recording.tap(source) if io.recording is not None else source
        # the microphone judges barge-in as it records, unless push-to-talk mutes it
        onset_watch = getattr(io.source, "onset", None) if io.push_to_talk is None else None
        self.ear = Ear(heard, io.recognizer, io.keypad, io.early_commit,
                       (lambda words: self.status.set(words=words)) if live else None,
                       self._audio if live else None, onset_watch)
        self._listening = LISTENING if io.push_to_talk is None else PRESS_TO_TALK
        self.view = ChatView(console)
        self._playing_s = 0.0

    def _audio(self, chunk: bytes) -> None:
        player = self.io.player
        if self.status.state == SPEAKING and not (player is not None and player.is_playing):
            self.status.state = self._listening  # the prompt has ended on its own
        self.status.audio(chunk)

    def speak(self, texts: list[str], personal: set[str] | frozenset[str] = frozenset(),
              screen_only: set[str] | frozenset[str] = frozenset()) -> float:
        """Print and start playing one answer; returns its length in seconds (0 if not played).
        Texts in ``personal`` (read-backs of the caller's values) are never cached as audio; texts
        in ``screen_only`` (a state's details) are printed and not spoken."""
        self.status.clear()
        self.view.said(texts, screen_only)
        io = self.io
        texts = [text for text in texts if text not in screen_only]
        if io.player is None or io.synthesizer is None or not texts:
            return 0.0
        pieces, rate = [], 22050
        for text in texts:
            samples, rate = io.synthesizer.synth_samples(text, cache=text not in personal)
            pieces += [samples, np.zeros(int(rate * GAP_S), dtype=np.int16)]
        audio = np.concatenate(pieces)
        io.player.stop()
        io.player.play(audio, rate)
        self.status.set(state=SPEAKING)
        if io.recording is not None:
            io.recording.played(getattr(io.player, "last", None), audio, rate)
        if not io.barge_in:
            io.player.wait()
            flush = getattr(io.source, "flush", None)
            if flush:
                flush()
            return 0.0
        return len(audio) / rate

    def hear(self, call: Call, playing_s: float) -> Input:
        player = self.io.player
        if not (player is not None and player.is_playing):
            self.status.set(state=self._listening)
        stop = player.stop if player is not None and self.io.barge_in else None

        def speech_starts() -> None:
            if stop is not None:
                stop()
            self.status.set(state=HEARING)

        return self.ear.hear(call, playing_s, on_speech_start=speech_starts)

    # the call loop's source and view
    def greeting(self, call: Call) -> None:
        self._playing_s = self.speak(call.greeting, call.personal_said, call.screen_only)
        with self.status.above():
            self.view.checklist(call)

    def talk_key(self) -> None:
        """The push-to-talk key: talking stops the prompt, as speaking over it would."""
        ptt = self.io.push_to_talk
        if ptt is None:
            return
        talking = ptt.toggle()
        if talking and self.io.player is not None:
            self.io.player.stop()
        self._listening = TALKING if talking else PRESS_TO_TALK
        self.status.set(state=self._listening)

    def next_input(self, call: Call) -> Input | None:
        if call.ended:
            return None
        inp = self.hear(call, self._playing_s)
        self.status.clear()
        unheard = "… (очень тихо)" if inp.quiet else "… (не разобрать)"
        shown = {"speech": inp.text or unheard, "dtmf": f"[кнопки {inp.text}]", "silence": "[молчание]"}
        self.console.print(f"[bold]Вы:[/] {escape(shown[inp.kind])}", highlight=False)
        return inp

    def turn(self, call: Call, turn: Turn) -> None:
        self._playing_s = self.speak(turn.said, call.personal_said, call.screen_only)
        with self.status.above():
            self.view.checklist(call)

    def run(self, call: Call) -> Call:
        """The line is erased however the call ends (a microphone that stalls, Ctrl+C), so the
        message that follows starts on a clean line."""
        try:
            converse(call, self, self)
            if self.io.player is not None:
                self.io.player.wait()
        finally:
            self.status.clear()
        return call


def missing_vocabulary(flow, recognizer) -> dict[str, list[str]]:
    """Menu phrases the model cannot hear, by state: reported once, before the call starts (and by
    ``ivr check --model``), instead of a phrase that silently never matches."""
    report_: dict[str, list[str]] = {}
    for name, phrases in menu_phrases(flow).items():
        words = recognizer.missing_words(phrases)
        if words:
            report_[name] = sorted(words)
    return report_


def print_missing_vocabulary(flow, recognizer, console: Console, details: str | None = None) -> None:
    """The words list for ``ivr check --model``; before a call only their number and the command
    that lists them (``details``), so the call screen stays the conversation."""
    missing = missing_vocabulary(flow, recognizer)
    if not missing:
        return
    everything = sorted({w for words in missing.values() for w in words})
    words = counted(len(everything), "слово", "gent")
    if details is not None:
        console.print(f"[yellow]В словаре модели нет {words} из фраз меню[/] — фразы с ними "
                      f"голосом не распознаются, кнопки работают. Список: {escape(details)}", highlight=False)
        return
    console.print(f"[yellow]В словаре модели нет {words} из фраз меню; фразы с ними "
                  f"голосом не распознаются:[/] {escape(', '.join(everything))}", highlight=False)
    console.print(f"[dim]Состояния: {escape(', '.join(missing))}[/]", highlight=False)


# --------------------------------------------------------------------------- setting up for real


def _voice_problems(settings: VoiceSettings, console: Console) -> tuple[Path | None, list[str]]:
    """Find the model (offering to download it) and a microphone; say what is missing."""
    from ivr.errors import ModelMissingError
    from ivr.voice import models
    from ivr.voice.devices import default_device

    problems: list[str] = []
    path: Path | None = None
    try:
        path = models.find_model(settings.model, places=settings.places)
    except ModelMissingError as missing:
        if settings.model:  # the caller named a model that is not there: a typo, not a fallback
            raise
        declined = settings.places.cache("answers") / "model-download-declined"
        if settings.offer_download and not declined.exists() and _ask(
            console, f"Модели распознавания речи нет. Скачать {models.DEFAULT_MODEL} (около 45 МБ) сейчас? [Д/н] "
        ):
            try:
                path = models.download(models.DEFAULT_MODEL, settings.places.models_dir)
            except UserError as failed:
                later = f"Позже скачайте модель командой: {models.download_command()}"
                problems.append(str(failed) if models.download_command() in str(failed) else f"{failed}\n{later}")
        else:
            if settings.offer_download and not declined.exists():
                _remember(declined)  # asked once: the next start says what is missing, without asking
            problems.append(str(missing))
    try:
        if settings.input_device is None and default_device("input") is None:
            problems.append("Не найден микрофон (устройство записи). Подключите микрофон или гарнитуру и "
                            "проверьте: ivr doctor")
    except UserError as no_portaudio:
        problems.append(str(no_portaudio))
    return path, problems


def _remember(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # not remembered: the question comes again next time, nothing worse


def _ask(console: Console, question: str) -> bool:
    try:
        answer = console.input(question)
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("", "д", "да", "y", "yes")


def run_practice(engine: Engine, *, console: Console, settings: VoiceSettings | None = None,
                 clock: Clock = system_clock, reports_dir: Path | None = Path("reports"),
                 keep_personal_data: bool = False) -> Call:
    from ivr.voice.models import load_model

    settings = settings or VoiceSettings()
    path, problems = _voice_problems(settings, console)
    if problems:
        console.print("[yellow]Голосовой режим недоступен:[/]")
        for problem in problems:
            console.print(f"  • {escape(problem)}", highlight=False)
        console.print("[yellow]Продолжаем звонок текстом.[/] Голосовую часть можно проверить командой "
                      "ivr doctor.\n")
        return run_chat(engine, console=console, clock=clock, reports_dir=reports_dir,
                        keep_personal_data=keep_personal_data)
    from ivr.voice.playback import open_player
    from ivr.voice.sources import MicrophoneSource
    from ivr.voice.stt import VoskRecognizer
    from ivr.voice.tts import Synthesizer

    assert path is not None  # no problems means the model was found
    from ivr.voice.devices import choose_device

    # a device the caller named and that is not there is a typo: said with the list, exit 2
    microphone = choose_device(settings.input_device, "input") if settings.input_device is not None else None
    speaker = choose_device(settings.output_device, "output") if settings.output_device is not None else None
    console.print("[dim]Загружаю модель распознавания…[/]")
    load_model(path)
    player = open_player(speaker)
    if player is None:
        console.print("[yellow]Динамик не найден: ответы будут только на экране.[/]")
    session = Session(reports_dir, keep_personal_data)
    call, transcript = session.open(engine, clock)
    recording: CallRecording | None = None
    try:
        keypad = KeypadQueue()
        console.print("[dim]Говорите после ответа автоответчика; кнопки телефона — цифры, * и # на "
                      "клавиатуре; Ctrl+C — положить трубку.[/]")
        recognizer = VoskRecognizer(path)
        print_missing_vocabulary(engine.flow, recognizer, console,
                                 details=f"ivr check {engine.flow.source} --model {path}")
        with hang_up_on_signals():
            synthesizer = (Synthesizer(voice=settings.voice, rate=settings.rate,
                                       cache_dir=settings.places.cache("tts")) if player else None)
            recording = CallRecording() if settings.record else None
            with chatter_to_log(settings.places.cache("logs") / "practice.log") as log:
                fault = speak_call(call, lambda: MicrophoneSource(device=microphone), recognizer, player,
                                   synthesizer, keypad, settings, console, recording)
            if log.written:
                console.print(f"[dim]Сообщения звуковой системы и модели за звонок: {escape(str(log.path))}[/]")
            if fault is not None:
                continue_typed(call, fault, console)
    finally:  # whatever ended the call, the caller gets the report of what was said
        session.close(call, transcript, console)
        if recording is not None:
            save_recording(recording, transcript, reports_dir, console)
    return call


def save_recording(recording: CallRecording, transcript: Path | None, reports_dir: Path | None,
                   console: Console) -> Path | None:
    """The call's WAV beside its transcript (same name), said where it is and what it holds."""
    folder = transcript.parent if transcript is not None else (reports_dir or Path("."))
    stem = transcript.name.removesuffix(".transcript.jsonl") if transcript is not None else "call"
    try:
        path = recording.write(folder / f"{stem}.wav")
    except UserError as failed:
        console.print(f"[yellow]Запись звонка не сохранена:[/] {escape(str(failed))}")
        return None
    if path is not None:
        console.print(f"Запись звонка (ваш голос и все продиктованные данные — не пересылайте её): {path}",
                      markup=False)
    return path


def speak_call(call: Call, open_microphone: Callable[[], Any], recognizer: Any, player: Any, synthesizer: Any,
               keypad: KeypadQueue, settings: VoiceSettings, console: Console,
               recording: CallRecording | None = None) -> str | None:
    """Run ``call`` by voice until it ends or the caller hangs up (None), or until the audio fails
    mid-call: a microphone that stops sending sound or vanishes is a fault of the line, not the end
    of the rehearsal, so what went wrong is returned and the call goes on by keyboard."""
    try:
        with open_microphone() as mic:
            io = VoiceIO(mic, recognizer, player, synthesizer, keypad, settings.barge_in, settings.early_commit,
                         recording, PushToTalk() if settings.push_to_talk else None)
            voice = VoiceCall(io, console=console, live_partials=True)
            talk = voice.talk_key if settings.push_to_talk else None
            with _terminal_keys(keypad, echo=voice.status.key, talk=talk):
                voice.run(call)
    except KeyboardInterrupt:
        console.print()
    except UserError as fault:
        return str(fault)
    finally:
        if player is not None:
            player.stop()
    return None


class _Resumed(ChatView):
    """The typed view of a call that began by voice: instead of the greeting, the last answer again,
    so the caller knows where the call stands."""

    def greeting(self, call: Call) -> None:
        self.said(call.turns[-1].said if call.turns else call.greeting)
        self.checklist(call)


def continue_typed(call: Call, fault: str, console: Console, read_line: Callable[[str], str] = input) -> None:
    """The rest of a spoken call by keyboard, after saying what broke the audio."""
    console.print(f"\n[yellow]Звук прервался:[/] {escape(fault)}")
    if call.ended:
        return
    console.print(f"[yellow]Продолжаем звонок текстом.[/] {TYPED_KEYS}")
    type_call(call, console, TypedLines(read_line, console), _Resumed(console))


class _terminal_keys:
    """Keys typed in the terminal while listening act as the phone keypad (cbreak mode: the terminal
    does not echo them, ``echo`` shows them on the call screen)."""

    def __init__(self, keypad: KeypadQueue, echo: Callable[[str], None] | None = None,
                 talk: Callable[[], None] | None = None):
        self.keypad = keypad
        self.echo = echo
        self.talk = talk  # the push-to-talk key (space) was pressed
        self._saved: list[Any] | None = None

    def __enter__(self):
        import threading

        if not sys.stdin.isatty():
            return self
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        threading.Thread(target=self._read, args=(fd,), daemon=True).start()
        return self

    def _read(self, fd: int) -> None:
        import select

        # Waits in short slices instead of blocking in read(): after the call (or a switch to typed
        # input) this thread must not swallow the first key of the caller's next line.
        while self._saved is not None:
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready or self._saved is None:
                    continue
                char = os.read(fd, 1).decode(errors="ignore")
            except OSError:
                return
            if char == TALK_KEY and self.talk is not None:
                self.talk()
            elif char and char in KEYS:
                self.keypad.push(char)
                if self.echo is not None:
                    self.echo(char)

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
