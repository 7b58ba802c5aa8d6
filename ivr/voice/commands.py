"""What the ``ivr models``/``say``/``transcribe``/``doctor`` commands do, without any CLI framework.

The CLI only parses arguments and calls these; each prints its own result with rich and returns
what a script would want (a path, a text, an exit code). Errors are raised as ``UserError``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from ivr.terminal import err as err_console
from ivr.terminal import literal
from ivr.terminal import out as console
from ivr.voice import models


def models_list() -> list[models.ModelEntry]:
    entries = models.list_models()
    table = Table(title=f"Модели распознавания речи (папка: {literal(models.models_dir())})")
    table.add_column("Модель", no_wrap=True, min_width=max(len(e.name) for e in entries) if entries else None)
    table.add_column("Состояние")
    table.add_column("Размер", justify="right")
    table.add_column("Описание")
    for e in entries:
        name = f"{e.name}\n[dim](по умолчанию)[/dim]" if e.is_default else e.name
        state = f"[green]установлена[/green]\n[dim]{literal(e.path)}[/dim]" if e.installed else "[yellow]не установлена[/yellow]"
        size = models.format_size(e.size_bytes) if e.installed else _approx_size(e.name)
        table.add_row(name, state, size, e.description)
    console.print(table)
    if not any(e.installed for e in entries):
        console.print(f"Скачать модель по умолчанию: [bold]{models.download_command()}[/bold]")
    return entries


def _approx_size(name: str) -> str:
    info = models.KNOWN_MODELS.get(name)
    return f"≈ {info.approx_size}" if info else "—"


def models_download(name: str = models.DEFAULT_MODEL, progress: bool = True) -> Path:
    info = models.KNOWN_MODELS.get(name)
    if info is not None:
        err_console.print(f"Модель {name} ({info.approx_size}) → {models.models_dir()}", markup=False)
    path = models.download(name, progress=progress)
    console.print(f"[green]Модель установлена:[/green] {literal(path)}")
    return path


def models_path(name: str = models.DEFAULT_MODEL) -> Path:
    path = models.find_model(None, name=name)
    console.print(str(path), markup=False)
    return path


def say(text: str, out_path: str | os.PathLike[str], voice: str = "ru", rate: int | None = None) -> Path:
    """Synthesize a prompt into a WAV file (through the cache, so repeated prompts are instant)."""
    import shutil

    from ivr.errors import AudioFileError
    from ivr.oserrors import describe
    from ivr.voice.audio import duration_s
    from ivr.voice.tts import Synthesizer

    synth = Synthesizer(voice=voice, rate=rate)
    cached = synth.synth(text)
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, out)
    except OSError as exc:
        raise AudioFileError(f"Не удалось записать аудиофайл {out}: {describe(exc)}.") from exc
    console.print(f"Озвучено: {out} ({duration_s(out):.1f} с)", markup=False)
    return out


def transcribe(
    path: str | os.PathLike[str], model_path: str | os.PathLike[str] | None = None, grammar: list[str] | None = None
) -> str:
    """Recognise a whole WAV file (open vocabulary unless a grammar is given)."""
    from ivr.voice.audio import read_audio
    from ivr.voice.stt import VoskRecognizer, recognize_all, strip_unk

    samples = read_audio(path)
    recognizer = VoskRecognizer(models.find_model(str(model_path) if model_path else None))
    text = strip_unk(recognize_all(recognizer, samples.tobytes(), grammar))
    console.print(literal(text) if text else "[dim](речь не распознана)[/dim]")
    return text


def _print_devices() -> None:
    """What ``ivr practice --input/--output`` can be given, by number and name."""
    from ivr.errors import UserError
    from ivr.voice.devices import devices

    try:
        for kind, title, option in (("input", "Микрофоны", "--input"), ("output", "Динамики", "--output")):
            found = devices(kind)
            listing = "; ".join(f"{i} — {name}" for i, name in found) if found else "не найдены"
            console.print(f"{title} ({option} номер или часть названия): {listing}", markup=False)
    except UserError:
        pass  # no PortAudio: the table above already says so


def doctor(model: str | None = None, phrases: list[str] | None = None, mic_test: bool = False,
           device: str | None = None, more: Callable[[], list[str]] | None = None) -> int:
    """``more``: further checks that print themselves and return what failed (``--selftest``)."""
    from ivr.voice.doctor import MIC_TEST_S, microphone_test, run_doctor

    checks = run_doctor(model, phrases)
    if mic_test:
        from ivr.voice.devices import choose_device

        chosen = choose_device(device, "input") if device is not None else None
        console.print(f"Проверка микрофона: скажите что-нибудь в ближайшие {MIC_TEST_S:g} с…")
        checks.append(microphone_test(chosen))
    table = Table(title="Проверка голосового режима")
    table.add_column("Проверка")
    table.add_column("Результат")
    # folded, never cut with «…»: a path or a command must stay whole to be copied
    table.add_column("Подробности", overflow="fold")
    for c in checks:
        table.add_row(literal(c.name), "[green]OK[/green]" if c.ok else "[red]нет[/red]", literal(c.detail))
    console.print(table)
    fixes = [c for c in checks if not c.ok and (c.fix or c.command)]
    if fixes:
        console.print("Как исправить:")
    for c in fixes:
        console.print(f"  {c.name}: {c.fix}" + (":" if c.command else ""), markup=False, highlight=False)
        if c.command:  # on a line of its own and never wrapped: copied whole
            console.print(f"    {c.command}", markup=False, highlight=False, soft_wrap=True)
    _print_devices()
    failed = [c.name for c in checks if not c.ok]
    if more is not None:
        failed += more()
    if failed:
        console.print(f"[yellow]Проблем: {len(failed)}.[/yellow] Текстовый режим (клавиатура) работает и без них.")
        return 1
    console.print("[green]Всё готово к голосовой тренировке.[/green]")
    return 0
