"""Pre-flight check of everything the voice mode needs, with a fix for each missing piece.

A rehearsal that fails halfway because the microphone or the model is missing is worse than
no rehearsal; ``ivr doctor`` says up front what works, what does not, and the command to fix it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ivr.errors import UserError
from ivr.voice import models
from ivr.voice.devices import PORTAUDIO_COMMAND


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # the command that fixes it, apart from the words: printed on a line of its own, never wrapped,
    # so it can be copied whole (in a table cell «vosk-model-small-ru-0.22» broke at 80 columns)
    command: str = ""


def _portaudio() -> tuple[Check, object | None]:
    try:
        from ivr.voice.devices import import_sounddevice

        sd = import_sounddevice()
    except UserError:
        return Check("PortAudio", False, "библиотека PortAudio не найдена", "Установите PortAudio", PORTAUDIO_COMMAND), None
    return Check("PortAudio", True, sd.get_portaudio_version()[1].split(",")[0]), sd


def _device(sd, kind: str) -> Check:
    label = "Микрофон" if kind == "input" else "Динамик"
    if sd is None:
        return Check(label, False, "недоступен без PortAudio", "Установите PortAudio", PORTAUDIO_COMMAND)
    fix = (
        "Подключите микрофон или выберите устройство ввода в настройках звука; "
        "без микрофона можно отвечать с клавиатуры"
        if kind == "input"
        else "Подключите динамики или наушники; без них подсказки будут показаны текстом"
    )
    try:
        info = sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError):
        return Check(label, False, "устройство по умолчанию не найдено", fix)
    channels = info.get("max_input_channels" if kind == "input" else "max_output_channels", 0)
    if channels <= 0:
        return Check(label, False, "устройство по умолчанию не найдено", fix)
    try:
        if kind == "input":
            stream = sd.RawInputStream(samplerate=16000, channels=1, dtype="int16")
        else:
            stream = sd.RawOutputStream(samplerate=22050, channels=1, dtype="int16")
        stream.close()
    except (sd.PortAudioError, ValueError):
        rate = "16 кГц моно" if kind == "input" else "22 кГц моно"
        return Check(label, False, f"«{info['name']}» не открывается в режиме {rate}", fix)
    return Check(label, True, f"«{info['name']}»")


def _voice() -> Check:
    from ivr.voice.tts import ESPEAK_COMMAND, find_voice

    try:
        voice = find_voice("ru")
    except UserError:
        return Check("Голос TTS", False, "русский голос espeak-ng не найден", "Установите синтезатор", ESPEAK_COMMAND)
    return Check("Голос TTS", True, f"{voice.name} ({voice.id})")


def _language(path, phrases: list[str]) -> Check:
    """Whether the model can hear the flow's menu words at all: a model of another language (an
    English or Korean one found first) loads and recognises — nothing the menus say."""
    from ivr.voice.stt import VoskRecognizer, normalize_phrase

    words = {w for p in phrases for w in normalize_phrase(p).split()}
    missing = VoskRecognizer(path).missing_words(phrases)
    if not words:
        return Check("Язык модели", True, "в сценарии нет фраз меню")
    if len(missing) > len(words) / 2:
        return Check(
            "Язык модели",
            False,
            f"модель не знает {len(missing)} из {len(words)} слов меню сценария — похоже, она для другого языка",
            "Скачайте русскую модель",
            models.download_command(),
        )
    return Check("Язык модели", True, f"знает {len(words) - len(missing)} из {len(words)} слов меню")


def _model(explicit: str | None, phrases: list[str]) -> list[Check]:
    try:
        path = models.find_model(explicit)
    except UserError as exc:
        return [
            Check(
                "Модель распознавания",
                False,
                str(exc).splitlines()[0],
                "Скачайте модель",
                models.download_command(),
            )
        ]
    checks = [Check("Модель распознавания", True, str(path))]
    start = time.perf_counter()
    try:
        models.load_model(path)
    except UserError as exc:
        checks.append(
            Check("Загрузка модели", False, str(exc).splitlines()[0], "Скачайте модель заново",
                  models.download_command(path.name))
        )
        return checks
    checks.append(Check("Загрузка модели", True, f"{time.perf_counter() - start:.1f} с"))
    checks.append(_language(path, phrases))
    if models.supports_grammar(path):
        checks.append(Check("Грамматики меню", True, "есть Gr.fst и HCLr.fst"))
    elif models.has_graph(path):
        checks.append(
            Check(
                "Грамматики меню",
                False,
                "статический граф HCLG.fst: пункты меню не подсказываются распознавателю",
                f"Для точного распознавания меню используйте {models.DEFAULT_MODEL}",
            )
        )
    else:
        checks.append(Check("Грамматики меню", False, "в модели нет графа распознавания", "Скачайте модель заново",
                            models.download_command(path.name)))
    return checks


MIC_TEST_S = 3.0


def microphone_test(device: int | str | None = None, seconds: float = MIC_TEST_S) -> Check:
    """Records ``seconds`` from the microphone and says whether a voice was in it, and how loud:
    a microphone that opens can still be muted, too far away or the wrong one of two."""
    from ivr.voice.activity import QUIET_RMS, SpeechOnset, frame_rms
    from ivr.voice.sources import MicrophoneSource

    name = "Проверка микрофона"
    fix = "Проверьте, что микрофон не выключен, выберите другой (--input, список ниже) и говорите ближе"
    onset = SpeechOnset(16000)
    loudest = 0.0
    try:
        with MicrophoneSource(device=device, stall_timeout_s=seconds + 2.0) as mic:
            heard = 0
            for chunk in mic:
                samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32)
                loudest = max(loudest, frame_rms(samples))
                onset.feed(chunk)
                heard += samples.size
                if heard >= seconds * 16000:
                    break
    except UserError as exc:
        return Check(name, False, str(exc).splitlines()[0], fix)
    if loudest == 0:
        return Check(name, False, f"за {seconds:g} с микрофон не прислал ни звука — он выключен или выбран не тот", fix)
    level = f"{20 * math.log10(loudest / 32768):.0f} дБ"
    if onset.onset_at is None:
        return Check(name, False, f"за {seconds:g} с речь не услышана (самый громкий звук {level})", fix)
    if loudest < QUIET_RMS:  # the call would answer «Вас очень тихо слышно» (ivr/voice/listen.py)
        return Check(name, False, f"речь слышна, но тихо (до {level}): слова не разобрать",
                     "Говорите ближе к микрофону или прибавьте его громкость в настройках звука")
    return Check(name, True, f"речь слышна с {onset.onset_at:.1f} с, громкость до {level}")


def run_doctor(model: str | None = None, phrases: list[str] | None = None) -> list[Check]:
    """``phrases``: the menu phrases of the flow to rehearse, to check the model's language on."""
    portaudio, sd = _portaudio()
    return [portaudio, _device(sd, "input"), _device(sd, "output"), _voice(), *_model(model, phrases or [])]
