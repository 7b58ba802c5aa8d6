"""Access to the sound card through PortAudio, imported only when audio hardware is really used.

Importing ``sounddevice`` loads the PortAudio C library and scans devices; a headless run
(keyboard practice, tests on files, CI) must never pay for that or fail because of it.
"""

from __future__ import annotations

from typing import Any

from ivr.errors import UserError

PORTAUDIO_FIX = "Установите PortAudio: sudo apt-get install libportaudio2"


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

