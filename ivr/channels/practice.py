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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from num2words import num2words
from rich.console import Console

from ivr.channels.chat import ChatView, run_chat
from ivr.channels.session import close_call, open_call
from ivr.engine import Call, Engine
from ivr.engine.call import Expectation, Input
from ivr.engine.clock import Clock, system_clock
from ivr.errors import UserError
from ivr.understanding.normalize import tokens
from ivr.understanding.numbers import dictation_words
from ivr.voice.keypad import KeypadQueue
from ivr.voice.listen import Heard, ListenSpec, listen

GAP_S = 0.25  # silence between two prompts of one answer
MORE_SPEECH_S = 1.5  # free speech: a pause shorter than this continues the same answer
MONTHS = ("января февраля марта апреля мая июня июля августа сентября октября ноября декабря "
          "года год").split()


def grammar_for(expect: Expectation) -> list[str] | None:
    """What the recognizer may hear in this state: the menu's phrases and their words (callers
    combine them: «не могу войти»), number words where digits are expected, and nothing for free
    speech (open vocabulary)."""
    if expect.mode == "free" and expect.slot_type != "yesno":
        return None
    phrases = list(expect.phrases)
    if expect.mode == "digits":
        phrases += dictation_words()
    if expect.slot_type == "yesno":
        phrases += ["да", "нет", "верно", "неверно"]
    if expect.slot_type == "date":
        phrases += dictation_words() + MONTHS
    words = [w for p in expect.phrases for w in tokens(p)]
    keys = [num2words(int(k), lang="ru") for k in expect.keys if k.isdigit()]  # «один» for key 1
    return list(dict.fromkeys(phrases + words + keys))


@dataclass
class VoiceIO:
    """The hardware side of a spoken call; any part may be a stand-in (WAV source, file sink)."""

    source: Iterable[bytes]
    recognizer: object
    player: object | None = None  # None: prompts are only printed
    synthesizer: object | None = None
    keypad: KeypadQueue | None = None
    barge_in: bool = True
    early_commit: bool = True  # in menus, answer after a short pause once the words are decisive
    heard: list[Heard] = field(default_factory=list)


class VoiceCall:
    def __init__(self, engine: Engine, io: VoiceIO, *, console: Console, clock: Clock = system_clock,
                 on_partial: Callable[[str], None] | None = None):
        self.engine = engine
        self.io = io
        self.console = console
        self.clock = clock
        self.on_partial = on_partial
        self.view = ChatView(console)

    def speak(self, texts: list[str]) -> float:
        """Print and start playing one answer; returns its length in seconds (0 if not played)."""
        self.view.said(texts)
        io = self.io
        if io.player is None or io.synthesizer is None or not texts:
            return 0.0
        pieces, rate = [], 22050
        for text in texts:
            samples, rate = io.synthesizer.synth_samples(text)
            pieces += [samples, np.zeros(int(rate * GAP_S), dtype=np.int16)]
        audio = np.concatenate(pieces)
        io.player.stop()
        io.player.play(audio, rate)
        if not io.barge_in:
            io.player.wait()
            flush = getattr(io.source, "flush", None)
            if flush:
                flush()
            return 0.0
        return len(audio) / rate

    def hear(self, call: Call, playing_s: float) -> Input:
        expect = call.expecting()
        spec = ListenSpec(
            grammar=grammar_for(expect),
            # the silence timer starts when the prompt ends, not while it is still playing
            noinput_timeout=expect.noinput_timeout + playing_s,
            early_commit=((lambda text: call.decisive(text) is not None)
                          if expect.mode == "menu" and self.io.early_commit else None),
            max_digits=1 if expect.mode == "menu" else None,
        )
        stop = self.io.player.stop if (self.io.player is not None and self.io.barge_in) else None
        heard = listen(self.io.source, self.io.recognizer, spec, keypad=self.io.keypad,
                       on_partial=self.on_partial, on_speech_start=stop)
        self.io.heard.append(heard)
        if heard.kind == "silence":
            return Input("silence", "", expect.noinput_timeout)
        if heard.kind == "dtmf":
            return Input("dtmf", heard.text)
        texts = [heard.text]
        # Heard times are relative to the start of each listen(): the answer lasts from the first
        # word to the end of the last phrase, pauses between phrases included.
        spoken_s = (heard.speech_ended_at or 0.0) - (heard.speech_started_at or 0.0)
        if expect.mode == "free":  # let the caller finish: more phrases after a short pause
            more = ListenSpec(grammar=None, noinput_timeout=MORE_SPEECH_S)
            while True:
                extra = listen(self.io.source, self.io.recognizer, more, keypad=self.io.keypad,
                               on_partial=self.on_partial)
                if extra.kind != "speech" or not extra.text:
                    break
                texts.append(extra.text)
                spoken_s += extra.speech_ended_at or 0.0
        phrases = [t for t in texts if t]
        return Input("speech", " ".join(phrases), max(0.0, spoken_s), len(phrases) or None)

    def run(self, call: Call) -> Call:
        playing = self.speak(call.greeting)
        self.view.checklist(call)
        while not call.ended:
            inp = self.hear(call, playing)
            shown = {"speech": inp.text or "…", "dtmf": f"[кнопки {inp.text}]", "silence": "[молчание]"}
            self.console.print(f"[bold]Вы:[/] {shown[inp.kind]}", highlight=False)
            turn = call.handle(inp)
            playing = self.speak(turn.said)
            self.view.checklist(call)
        if self.io.player is not None:
            self.io.player.wait()
        return call


def missing_vocabulary(flow, recognizer) -> dict[str, list[str]]:
    """Menu phrases the model cannot hear, by state: reported once, before the call starts (and by
    ``ivr check --model``), instead of a phrase that silently never matches."""
    report_: dict[str, list[str]] = {}
    for name in flow.states:
        phrases = [p for o in flow.states[name].options for p in o.phrases]
        phrases += [p for g in flow.enabled_globals(name).values() for p in g.phrases] if phrases else []
        words = recognizer.missing_words(phrases)
        if words:
            report_[name] = sorted(words)
    return report_


def print_missing_vocabulary(flow, recognizer, console: Console) -> None:
    missing = missing_vocabulary(flow, recognizer)
    if not missing:
        return
    everything = sorted({w for words in missing.values() for w in words})
    console.print(f"[yellow]В словаре модели нет {len(everything)} слов из фраз меню; фразы с ними "
                  f"голосом не распознаются:[/] {', '.join(everything)}", highlight=False)
    console.print(f"[dim]Состояния: {', '.join(missing)}[/]", highlight=False)


# --------------------------------------------------------------------------- setting up for real


def _voice_problems(model: str | None, console: Console, offer_download: bool) -> tuple[Path | None, list[str]]:
    """Find the model (offering to download it) and a microphone; say what is missing."""
    from ivr.errors import ModelMissingError
    from ivr.voice import models
    from ivr.voice.devices import default_device

    problems: list[str] = []
    path: Path | None = None
    try:
        path = models.find_model(model)
    except ModelMissingError as missing:
        if offer_download and _ask(console, f"Модели распознавания речи нет. Скачать {models.DEFAULT_MODEL} "
                                            "(около 45 МБ) сейчас? [Д/н] "):
            try:
                path = models.download(models.DEFAULT_MODEL)
            except UserError as failed:
                problems.append(f"{failed}\nПозже скачайте модель командой: {models.download_command()}")
        else:
            problems.append(str(missing))
    try:
        if default_device("input") is None:
            problems.append("Не найден микрофон (устройство записи). Подключите микрофон или гарнитуру и "
                            "проверьте: ivr doctor")
    except UserError as no_portaudio:
        problems.append(str(no_portaudio))
    return path, problems


def _ask(console: Console, question: str) -> bool:
    if not sys.stdin.isatty() or os.environ.get("CI"):
        return False
    try:
        answer = console.input(question)
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("", "д", "да", "y", "yes")


def run_practice(engine: Engine, *, console: Console, model: str | None = None, clock: Clock = system_clock,
                 reports_dir: Path | None = Path("reports"), keep_personal_data: bool = False,
                 voice: str = "ru", rate: int | None = None, barge_in: bool = True,
                 early_commit: bool = True, offer_download: bool = True) -> Call:
    from ivr.voice.models import load_model

    path, problems = _voice_problems(model, console, offer_download)
    if problems:
        console.print("[yellow]Голосовой режим недоступен:[/]")
        for problem in problems:
            console.print(f"  • {problem}", highlight=False)
        console.print("[yellow]Продолжаем звонок текстом.[/] Голосовую часть можно проверить командой "
                      "ivr doctor.\n")
        return run_chat(engine, console=console, clock=clock, reports_dir=reports_dir,
                        keep_personal_data=keep_personal_data)
    from ivr.voice.playback import open_player
    from ivr.voice.sources import MicrophoneSource
    from ivr.voice.stt import VoskRecognizer
    from ivr.voice.tts import Synthesizer

    console.print("[dim]Загружаю модель распознавания…[/]")
    load_model(path)
    player = open_player()
    if player is None:
        console.print("[yellow]Динамик не найден: ответы будут только на экране.[/]")
    call = open_call(engine, clock, reports_dir, keep_personal_data)
    keypad = KeypadQueue()
    console.print("[dim]Говорите после ответа автоответчика; кнопки телефона — цифры, * и # на "
                  "клавиатуре; Ctrl+C — положить трубку.[/]")
    recognizer = VoskRecognizer(path)
    print_missing_vocabulary(engine.flow, recognizer, console)
    with MicrophoneSource() as mic, _terminal_keys(keypad):
        io = VoiceIO(mic, recognizer, player, Synthesizer(voice=voice, rate=rate) if player else None,
                     keypad, barge_in, early_commit)
        try:
            VoiceCall(engine, io, console=console, clock=clock, on_partial=_partial_printer(console)).run(call)
        except KeyboardInterrupt:
            console.print()
        finally:
            if player is not None:
                player.stop()
    close_call(call, console, reports_dir, keep_personal_data)
    return call


def _partial_printer(console: Console) -> Callable[[str], None] | None:
    if not console.is_terminal:
        return None

    def show(text: str) -> None:
        console.file.write(f"\r\x1b[K… {text}")  # the live partial result, overwritten in place
        console.file.flush()

    return show


class _terminal_keys:
    """Keys typed in the terminal while listening act as the phone keypad (cbreak mode, no echo)."""

    def __init__(self, keypad: KeypadQueue):
        self.keypad = keypad
        self._saved = None

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
        while self._saved is not None:
            try:
                char = os.read(fd, 1).decode(errors="ignore")
            except OSError:
                return
            if char and char in "0123456789*#":
                self.keypad.push(char)

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
