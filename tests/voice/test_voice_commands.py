"""The plain functions behind `ivr models …`, `ivr say`, `ivr transcribe` and `ivr doctor`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from ivr.errors import AudioFileError, ModelMissingError
from ivr.voice import commands, models
from tests.voice.helpers import HELLO, THANKS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    monkeypatch.delenv(models.ENV_MODEL, raising=False)
    monkeypatch.setenv(models.ENV_MODELS_DIR, str(tmp_path / "models"))


def test_say_writes_a_prompt_wav(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    out = commands.say("Добро пожаловать на портал Госуслуги!", tmp_path / "prompt.wav", voice="ru", rate=180)
    info = sf.info(out)
    assert info.duration > 1.0
    printed = capsys.readouterr().out
    assert "prompt.wav" in printed and "Audio saved" not in printed


def test_say_to_an_unwritable_place(tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError) as err:
        commands.say("Проверка.", blocker / "out.wav")
    assert str(blocker / "out.wav") in str(err.value)


def test_transcribe_open_vocabulary_and_grammar(korean_wav, ko_model_path, ko_model, capsys):
    free = commands.transcribe(korean_wav(HELLO), ko_model_path)
    assert free.strip()
    assert commands.transcribe(korean_wav(THANKS), ko_model_path, grammar=[HELLO, THANKS]) == THANKS
    assert THANKS in capsys.readouterr().out


def test_transcribe_reads_a_flac_recording(korean_wav, ko_model_path, ko_model, tmp_path):
    data, rate = sf.read(korean_wav(THANKS), dtype="int16")
    flac = tmp_path / "thanks.flac"
    sf.write(flac, data, rate)
    assert commands.transcribe(flac, ko_model_path, grammar=[HELLO, THANKS]) == THANKS


def test_transcribe_bad_file(tmp_path, ko_model_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioFileError) as err:
        commands.transcribe(bad, ko_model_path)
    assert str(bad) in str(err.value)


def test_a_damaged_mp3_is_one_russian_sentence_not_the_decoders_own_lines(korean_samples, ko_model_path, tmp_path,
                                                                         capfd):
    """libmpg123 writes «Note: Illegal Audio-MPEG-Header…» to file descriptor 2 from C: none of it
    reaches the screen; the file is named in the error, exit 2."""
    from tests.command import ivr_here

    sf.write(tmp_path / "ok.mp3", korean_samples(HELLO), 16000, format="MP3")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes((tmp_path / "ok.mp3").read_bytes()[:8] + bytes(range(256)) * 8)  # a header, no audio
    proc = ivr_here("transcribe", broken, "--model", ko_model_path)
    screen = capfd.readouterr()
    assert proc.returncode == 2 and "broken.mp3: файл повреждён" in proc.stderr, proc
    for out in (screen.out, screen.err, proc.stdout, proc.stderr):
        assert "MPEG" not in out and "mpg123" not in out and "Note:" not in out, out


def test_transcribe_without_a_model_names_the_download_command(korean_wav, no_model):
    with pytest.raises(ModelMissingError) as err:
        commands.transcribe(korean_wav(HELLO))
    assert "ivr models download vosk-model-small-ru-0.22" in str(err.value)


def test_models_list_and_path(no_model, tmp_path, capsys):
    entries = commands.models_list()
    out = capsys.readouterr().out
    assert models.DEFAULT_MODEL in out and "ivr models download" in out
    assert any(e.name == models.DEFAULT_MODEL for e in entries)
    with pytest.raises(ModelMissingError):
        commands.models_path()


def test_model_names_are_whole_in_an_80_column_terminal(no_model):
    from tests.command import ivr_process

    # a real process: rich reads the terminal width when its console is made
    shown = ivr_process("models", "list", env={**os.environ, "COLUMNS": "80"}).stdout
    table = "\n".join(line for line in shown.splitlines() if line.startswith("│"))
    for name in models.KNOWN_MODELS:
        assert name in table, shown  # was cut to «vosk-model-small-ru-0.…»


def test_models_path_prints_the_installed_model(monkeypatch, ko_model_path, capsys):
    monkeypatch.setenv(models.ENV_MODEL, str(ko_model_path))
    assert commands.models_path() == ko_model_path
    assert str(ko_model_path) in capsys.readouterr().out.replace("\n", "")


def test_doctor_without_devices_or_model_reports_fixes(tmp_path):
    """In a subprocess with no sound server at all, as on a headless machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE", "IVR_"))}
    env.update(
        PULSE_SERVER=f"unix:{tmp_path / 'none'}",
        PULSE_RUNTIME_PATH=str(tmp_path),
        XDG_RUNTIME_DIR=str(tmp_path),
        IVR_MODELS_DIR=str(tmp_path / "models"),
        PYTHONPATH=str(ROOT),
        COLUMNS="80",  # a terminal's usual width: the fix commands must still come out whole
    )
    code = "import sys; from ivr.voice.commands import doctor; sys.exit(doctor())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "    ivr models download vosk-model-small-ru-0.22" in result.stdout.splitlines(), result.stdout
    assert "Голос TTS" in result.stdout
    if not any(Path("/dev/snd").glob("pcmC*")):
        assert "Микрофон" in result.stdout and "устройство по умолчанию не найдено" in result.stdout
    assert "Traceback" not in result.stderr


def test_doctor_says_a_model_of_another_language_cannot_hear_the_menus(ko_model_path, ko_model, monkeypatch):
    import io

    from rich.console import Console

    from ivr.channels.practice import missing_vocabulary
    from ivr.flow.loader import load_flow
    from ivr.voice.stt import VoskRecognizer
    from tests.command import ivr_here

    # the Госуслуги flow's Russian menus against the Korean test model, on a screen wide enough for
    # a table row to stay on one line
    screen = io.StringIO()
    monkeypatch.setattr(commands, "console", Console(file=screen, width=250))
    ivr_here("doctor", "--model", ko_model_path)
    shown = screen.getvalue()
    line = next(line for line in shown.splitlines() if "Язык модели" in line)
    assert "нет" in line and "похоже, она для другого языка" in line, shown
    assert "ivr models download vosk-model-small-ru-0.22" in shown
    # the same menu words counted as ``ivr check --model`` (and ``ivr practice``) count them
    missing = re.search(r"модель не знает (\d+) из", line)
    flow = load_flow(ROOT / "flows" / "gosuslugi.yaml")
    missing_by_state = missing_vocabulary(flow, VoskRecognizer(ko_model_path))
    assert missing and int(missing[1]) == len({w for words in missing_by_state.values() for w in words}), line


def test_doctor_selftest_speaks_the_menus_to_the_model_and_names_what_it_cannot_hear(ko_model_path, ko_model,
                                                                                     monkeypatch):
    """espeak-ng says each phrase, the Korean model hears it with the state's grammar."""
    import io

    from rich.console import Console

    from ivr import selftest
    from tests.command import ivr_here

    screen = io.StringIO()
    monkeypatch.setattr(commands, "console", Console(file=screen, width=250))
    monkeypatch.setattr(selftest, "console", commands.console)
    flow = ROOT / "tests" / "voice" / "flows" / "ko_selftest.yaml"
    proc = ivr_here("doctor", flow, "--model", ko_model_path, "--selftest", "--voice", "ko")
    shown = screen.getvalue()
    # the self-test table's rows, whose first cell is the state (the checks table above has as many
    # columns, and its model row holds a path that may contain "main")
    rows = {line.split("│")[2].strip(): line.split("│")[3].strip() for line in shown.splitlines()
            if line.count("│") == 4 and line.split("│")[1].strip() == "main"}
    assert rows == {"내": "네", "абонент": "нет в словаре: абонент"}, shown
    assert "Распознано фраз меню: 1 из 3." in shown and proc.returncode == 1
