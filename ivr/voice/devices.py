"""Access to the sound card through PortAudio, imported only when audio hardware is really used.

Importing ``sounddevice`` loads the PortAudio C library and scans devices; a headless run
(keyboard practice, tests on files, CI) must never pay for that or fail because of it.
"""

from __future__ import annotations

from typing import Any

from ivr.errors import UserError

PORTAUDIO_COMMAND = "sudo apt-get install libportaudio2"
PORTAUDIO_FIX = f"Установите PortAudio: {PORTAUDIO_COMMAND}"


def import_sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio is missing
        raise UserError(f"Не найдена библиотека PortAudio, без неё нет доступа к микрофону и динамику.\n{PORTAUDIO_FIX}") from exc
    return sounddevice


def rescan() -> None:
    """PortAudio reads the device list once; after starting a sound server it must look again."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


def default_device(kind: str) -> dict | None:
    """The default ``'input'`` or ``'output'`` device, or None when there is none."""
    sd = import_sounddevice()
    try:
        info = sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError):
        return None
    if not info:
        return None
    channels = info.get("max_input_channels" if kind == "input" else "max_output_channels", 0)
    return dict(info) if channels > 0 else None



def devices(kind: str) -> list[tuple[int, str]]:
    """(index, name) of every device that can record (``'input'``) or play (``'output'``)."""
    sd = import_sounddevice()
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    try:
        found = sd.query_devices()
    except sd.PortAudioError:
        return []
    return [(int(d["index"]), str(d["name"])) for d in found if d.get(key, 0) > 0]


def choose_device(wanted: str, kind: str) -> int:
    """The device a ``--input``/``--output`` value names: its number, or a unique part of its name
    (case ignored). Anything else is a UserError that lists what there is."""
    choices = devices(kind)
    what = "записи (--input)" if kind == "input" else "воспроизведения (--output)"
    listing = "; ".join(f"{i} — {name}" for i, name in choices) or "ни одного"
    text = wanted.strip()
    if text.isdigit():
        if int(text) in {i for i, _ in choices}:
            return int(text)
        raise UserError(f"Устройства {what} с номером {text} нет. Есть: {listing}")
    matches = [i for i, name in choices if text.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"Устройства {what} «{wanted}» нет. Есть: {listing}")
    raise UserError(f"«{wanted}» подходит к нескольким устройствам {what}: "
                    + "; ".join(f"{i} — {name}" for i, name in choices if i in matches) + ". Укажите номер.")
