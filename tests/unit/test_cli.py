"""The command line as a user meets it: JSON output, exit codes, failure reports, bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.command import ivr_here, ivr_process

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "flows" / "example.yaml")
MORNING = "2026-11-25T10:00:00+03:00"


# Most cases run the entry point in this process (tests/command.py); those about processes
# themselves (signals, a crash's exit code) start real ones, and one case of each command family
# goes through a real interpreter too, so the installed entry point is covered (`chat`: the
# terminated-chat cases below).
ivr = ivr_here


def test_run_json_is_one_object_with_turns_and_final_state():
    proc = ivr_process("run", EXAMPLE, "--now", MORNING, "--caller", "продлить книгу", "--caller", "",
               "--caller", "123456", "--json", "--keep-personal-data")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [t["kind"] for t in data["turns"]] == ["speech", "silence", "dtmf"]
    assert data["turns"][0]["match"]["id"] == "renew"
    assert data["turns"][1]["match"] is None and data["turns"][1]["state"] == "renew_card"
    assert data["turns"][2]["match"] == {"kind": "digits", "slot": "card", "value": "123456", "valid": True}
    assert data["final_state"] == "renew_done" and data["ended"] is True
    assert all(isinstance(t["said"], list) for t in data["turns"])
    masked = json.loads(ivr("run", EXAMPLE, "--now", MORNING, "--caller", "продлить книгу", "--caller", "",
                            "--caller", "123456", "--json").stdout)
    assert masked["turns"][2]["match"]["value"] == "****56"  # long numbers are masked by default


def test_run_script_exit_code_follows_expectations(tmp_path: Path):
    script = tmp_path / "s.yaml"
    script.write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n  - dtmf: '2'\n"
                      "    expect: {state: renew_card, says: ['нет такого текста']}\n", encoding="utf-8")
    proc = ivr("run", "--script", str(script))
    assert proc.returncode == 1
    assert (f"НЕ СОВПАЛО: {script}:4:5: шаг 1 (dtmf: 2):\n  ожидалось: state: renew_card\n"
            "  вышло:     state: signup") in proc.stdout


def test_ivr_test_prints_turn_expected_and_happened(tmp_path: Path):
    (tmp_path / "good.yaml").write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n  - dtmf: '1'\n"
                                        "    expect: {state: renew_card}\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n  - dtmf: '1'\n"
                                       "  - caller: 'двенадцать'\n    expect: {slots: {card: '12'}}\n",
                                       encoding="utf-8")
    proc = ivr("test", str(tmp_path))
    assert proc.returncode == 1
    assert "ПРОВАЛ" in proc.stdout and "bad.yaml" in proc.stdout
    assert "шаг 2 (caller: двенадцать):" in proc.stdout
    assert "ожидалось: slots.card: 12" in proc.stdout
    assert "вышло:     slots.card: 12 (неверно)" in proc.stdout
    assert "1 passed, 1 failed" in proc.stdout


def test_invalid_convo_file_is_exit_2_with_position(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"flow: {EXAMPLE}\nturns:\n  - caler: 'да'\n", encoding="utf-8")
    proc = ivr("run", "--script", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3:5: turns.0.caler: неизвестное поле «caler» — возможно, вы имели в виду «caller»" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_arguments_are_exit_2():
    assert ivr("run", EXAMPLE).returncode == 2
    proc = ivr("run", EXAMPLE, "--caller", "да", "--now", "2026-11-25T10:00:00")
    assert proc.returncode == 2 and "нет часового пояса" in proc.stderr
    proc = ivr("chat", str(ROOT / "flows" / "nope.yaml"))
    assert proc.returncode == 2 and "файл сценария не найден" in proc.stderr


def test_chat_keys_silence_and_checklist(tmp_path: Path):
    proc = ivr("chat", EXAMPLE, "--now", MORNING, "--reports", str(tmp_path), stdin="\n2\n")
    assert proc.returncode == 0, proc.stderr
    assert "Я вас не слышу" in proc.stdout
    assert "Что подготовить" in proc.stdout and "Паспорт" in proc.stdout
    assert list(tmp_path.glob("*.transcript.jsonl"))
    assert "Итог: Запись в библиотеку" in proc.stdout  # the take-away checklist at hang-up
    (md,) = tmp_path.glob("*-zapis-v-biblioteku-*.md")
    assert "- [ ] Телефон: **нет**" in md.read_text(encoding="utf-8")


def test_chat_help_lists_the_commands_and_is_not_said_into_the_call(tmp_path: Path):
    proc = ivr("chat", EXAMPLE, "--now", MORNING, "--reports", str(tmp_path), stdin="/помощь\n1\n/HELP\n/выход\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("Команды звонка текстом:") == 2
    assert "/выход — положить трубку" in proc.stdout and "Извините, я не понял" not in proc.stdout
    (transcript,) = tmp_path.glob("*.transcript.jsonl")
    turns = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert [(t["kind"], t["input"]) for t in turns if t["type"] == "turn"] == [("dtmf", "1")]


def test_practice_data_is_valid():
    from ivr.personal.identifiers import check_inn, check_snils

    proc = ivr("practice-data")
    assert proc.returncode == 0
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    assert check_snils(lines["СНИЛС"]).ok and check_inn(lines["ИНН"]).ok


def test_practice_without_a_model_explains_and_falls_back_to_typing(tmp_path: Path):
    import os

    env = {k: v for k, v in os.environ.items() if k != "IVR_VOSK_MODEL"}
    env["IVR_MODELS_DIR"] = str(tmp_path / "models")
    proc = ivr("practice", EXAMPLE, "--now", MORNING, "--reports", str(tmp_path), stdin="1\n", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Голосовой режим недоступен" in proc.stdout
    assert "ivr models download vosk-model-small-ru-0.22" in proc.stdout
    assert "Продолжаем звонок текстом" in proc.stdout
    assert "Назовите номер читательского билета" in proc.stdout  # the typed call went on


def test_the_model_download_question_is_asked_once(tmp_path: Path, monkeypatch):
    """Declined once, the question does not come back at every start; what is missing is still said."""
    import io

    from rich.console import Console

    from ivr.channels.practice import _voice_problems
    from ivr.settings import Places, VoiceSettings

    places = Places(models_dir=tmp_path / "models", model_from_env=None, cache_root=tmp_path / "cache")
    settings = VoiceSettings(offer_download=True, places=places)
    for answer, asked in (("н\n", True), ("", False)):
        screen = io.StringIO()
        monkeypatch.setattr("sys.stdin", io.StringIO(answer))
        path, problems = _voice_problems(settings, Console(file=screen, width=200))
        assert path is None and any("ivr models download" in p for p in problems)
        assert ("Скачать vosk-model-small-ru-0.22" in screen.getvalue()) is asked


def test_practice_with_a_model_path_that_does_not_exist_is_exit_2(tmp_path: Path):
    proc = ivr("practice", EXAMPLE, "--model", str(tmp_path / "nope"), "--reports", str(tmp_path), stdin="")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(tmp_path / "nope") in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.md")), "no call was started"


def test_clock_and_report_folder_problems_are_exit_2(tmp_path: Path):
    for args in (("chat", "--now", "9999-12-31T23:00:00+03:00"), ("chat", "--now", "garbage"),
                 ("chat", "--reports", "/dev/null/x")):
        proc = ivr(*args, EXAMPLE, stdin="\n")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip()
    assert "часть пути не является папкой" in proc.stderr


def test_check_reports_every_broken_file(tmp_path: Path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("flow: {id: a}\n", encoding="utf-8")
    b.write_text("states: []\n", encoding="utf-8")
    proc = ivr("check", str(a), EXAMPLE, str(b))
    assert proc.returncode == 2
    assert f"{a}:" in proc.stderr and f"{b}:" in proc.stderr
    assert "example.yaml: ок" in proc.stdout


def test_run_json_masks_personal_data_unless_asked():
    """`ivr run --json` prints what the transcript would keep: masked values, not the raw ones."""
    said = ["оператор", "Петрова Анна Сергеевна", "1", "112 233 445 95"]
    args = ["run", "--json", "--now", "2026-11-25T10:00:00+03:00"]
    for line in said:
        args += ["--caller", line]
    masked = ivr(*args)
    assert masked.returncode == 0, masked.stderr
    for secret in ("Петрова", "Сергеевна", "11223344595", "112 233 445", "112-233-445"):
        assert secret not in masked.stdout, secret
    data = json.loads(masked.stdout)
    assert data["masked"] is True and data["slots"]["snils"]["value"] == "***-***-*** 95"
    kept = ivr(*args, "--keep-personal-data")
    assert json.loads(kept.stdout)["slots"]["snils"]["value"] == "11223344595"
    assert "Петрова Анна Сергеевна" in kept.stdout


def test_chat_prints_markup_in_flow_and_caller_text_literally(tmp_path: Path):
    """«[bold red]…[/]» or «[/]» typed by a caller or written in a flow is text, not Rich markup."""
    flow = tmp_path / "m.yaml"
    flow.write_text("flow: {id: m, title: M, start: a}\nstates:\n  a:\n    say: 'Нажмите [1] или скажите [/] [bold red]x[/]'\n"
                    "    checklist: ['Паспорт [link=http://x]']\n    options: [{id: o, keys: '1', phrases: [дальше], goto: b}]\n"
                    "  b: {say: 'Конец [/]', end: true}\n", encoding="utf-8")
    proc = ivr("chat", str(flow), "--reports", str(tmp_path / "r"), stdin="[/] [bold red]привет[/]\n1\n")
    assert proc.returncode == 0, proc.stderr
    assert "Нажмите [1] или скажите [/] [bold red]x[/]" in proc.stdout
    assert "Паспорт [link=http://x]" in proc.stdout and "Конец [/]" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_only_regular_files_are_read_as_flows(tmp_path: Path):
    """/dev/zero was read until memory ran out; a FIFO blocked `ivr check` for ever."""
    fifo = tmp_path / "flow.yaml"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        proc = ivr("check", path)
        assert proc.returncode == 2 and "не обычный файл" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    convo = tmp_path / "c.yaml"
    convo.write_text("flow: /dev/zero\nturns: [{caller: привет}]\n", encoding="utf-8")
    proc = ivr("test", str(convo))
    assert proc.returncode == 2 and "не обычный файл" in proc.stderr, proc.stdout + proc.stderr


def test_calls_in_one_folder_never_overwrite_each_other(tmp_path: Path):
    """Two calls with the same --now (or twenty at once) wrote one report over another and mixed
    their transcripts; each call now has its own files and every record carries its call id."""
    for _ in range(2):
        proc = ivr("chat", EXAMPLE, "--now", MORNING, "--reports", str(tmp_path), stdin="1\n")
        assert proc.returncode == 0, proc.stderr
    assert len(list(tmp_path.glob("*.md"))) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    transcripts = list(tmp_path.glob("*.transcript.jsonl"))
    assert len(transcripts) == 2
    ids = set()
    for path in transcripts:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert {r["type"] for r in records} >= {"call", "turn", "end"}
        ids |= {r["call"] for r in records}
        assert len({r["call"] for r in records}) == 1 and records[0]["call"] in path.name
    assert len(ids) == 2
    for md in tmp_path.glob("*.md"):
        # the clock runs from --now: a call typed in one go is «меньше секунды», not a frozen «0.0 с»
        text = md.read_text(encoding="utf-8")
        assert "Начало: 2026-11-25T10:00:00" in text and "длительность 0.0 с" not in text, text
        assert re.search(r"длительность (меньше секунды|\d+\.\d с|\d+ мин \d+ с)\.", text), text


def test_a_full_disk_keeps_the_call_and_says_what_was_lost(tmp_path: Path):
    """/dev/full fails every write with ENOSPC, as a full disk does mid-call."""
    from datetime import datetime

    from ivr.engine import Engine, ManualClock

    engine = Engine.from_file(EXAMPLE)
    call = engine.start_call(clock=ManualClock(datetime.fromisoformat(MORNING)), transcript="/dev/full")
    call.speech("продлить книгу")
    call.dtmf("123456")
    call.hang_up()
    (writer,) = call.observers
    assert call.ended and writer.problem and "расшифровка прервана" in writer.problem


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_chat_still_writes_its_report(tmp_path: Path, signum: int):
    """A closed terminal (SIGHUP) or `kill` (SIGTERM) ends the call like Ctrl+C: report written."""
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "chat", EXAMPLE, "--now", MORNING,
                             "--reports", str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write("1\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("*.transcript.jsonl")) or len(
            list(tmp_path.glob("*.transcript.jsonl"))[0].read_text(encoding="utf-8").splitlines()) < 2:
        assert time.monotonic() < deadline, "the call never took the first turn"
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert list(tmp_path.glob("*.md")), out + err


def test_a_bug_is_exit_3_not_1_and_leaves_its_traceback_in_a_file(tmp_path: Path):
    """Exit 1 means «an expectation failed»; an internal error must not look like that."""
    code = ("import ivr.cli, ivr.convo.suite as suite\n"
            "def boom(*a, **k): raise RuntimeError('boom')\n"
            "suite.run_tests = boom\n"
            "ivr.cli.main()\n")
    proc = subprocess.run([sys.executable, "-c", code, "test", "tests/convos"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "Внутренняя ошибка ivr (RuntimeError): boom" in proc.stderr and "Traceback" not in proc.stderr
    (crash,) = tmp_path.glob("ivr-crash-*.txt")
    assert "RuntimeError: boom" in crash.read_text(encoding="utf-8")


@pytest.mark.parametrize("keep", [False, True])
def test_run_json_is_written_a_turn_at_a_time_in_the_same_shape(tmp_path: Path, keep: bool):
    """``ivr run --json`` streams its output (20,000 turns took 1.08 GB through rich): the text
    is the object ``to_json`` describes, indented as before, also for a call with no turns."""
    import io

    from ivr.channels.headless import to_json, write_json
    from ivr.convo.runner import Runner, run_convo
    from ivr.convo.schema import load_convo

    script = tmp_path / "s.yaml"
    script.write_text(f"now: '{MORNING}'\nturns:\n  - dtmf: '2'\n  - caller: 'Петрова Анна Сергеевна [/]'\n"
                      "  - caller: '+7 912 345-67-89'\n  - silence: 2\n", encoding="utf-8")
    empty = tmp_path / "empty.yaml"
    empty.write_text(f"now: '{MORNING}'\nturns: []\n", encoding="utf-8")
    engine = Runner(Path(EXAMPLE)).engine(Path(EXAMPLE))
    texts = []
    for path in (script, empty):
        result = run_convo(engine, load_convo(path), str(path), keep_personal_data=keep)
        written = io.StringIO()
        write_json(result, written, keep)
        assert json.loads(written.getvalue()) == to_json(result, keep)
        assert written.getvalue() == json.dumps(to_json(result, keep), ensure_ascii=False, indent=2) + "\n"
        texts.append(written.getvalue())
    assert ("345-67-89" in texts[0]) is keep and ("Петрова" in texts[0]) is keep
    assert json.loads(texts[1])["turns"] == []


def test_steps_after_the_call_ended_are_named_once_with_their_line(tmp_path: Path):
    convo = tmp_path / "after_end.yaml"
    convo.write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n"
                     "  - dtmf: '1'\n  - caller: '123456'\n  - caller: да\n"
                     "  - caller: ещё что-то\n    expect: {state: main}\n", encoding="utf-8")
    proc = ivr("test", str(convo))
    assert proc.returncode == 1
    assert f"{convo}:6:5: шаг 3 (caller: да):" in proc.stdout
    assert "звонок уже завершён" in proc.stdout and "шаг 4" not in proc.stdout  # one failure, not one per step


def test_a_failed_expectation_names_its_line_in_the_convo_file(tmp_path: Path):
    convo = tmp_path / "wrong.yaml"
    convo.write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n"
                     "  - dtmf: '1'\n    expect: {state: main}\n", encoding="utf-8")
    proc = ivr("test", str(convo))
    assert proc.returncode == 1 and f"{convo}:4:5: шаг 1 (dtmf: 1):" in proc.stdout


def test_names_in_expect_that_the_flow_lacks_are_errors_at_their_position(tmp_path: Path):
    convo = tmp_path / "typo.yaml"
    convo.write_text(f"flow: {EXAMPLE}\nnow: '{MORNING}'\nturns:\n  - expect: {{state: mian}}\n"
                     "  - dtmf: '1'\n    expect: {match: renw, slots: {crad: '1'}, event: nomach}\n", encoding="utf-8")
    proc = ivr("test", str(convo))
    assert proc.returncode == 2, proc.stdout
    assert [line.split(": ", 2)[:2] for line in proc.stderr.splitlines()] == [
        [f"{convo}:4:14", "turns.0.expect.state"], [f"{convo}:6:14", "turns.1.expect.match"],
        [f"{convo}:6:35", "turns.1.expect.slots.crad"], [f"{convo}:6:47", "turns.1.expect.event"]]
    assert "состояния «mian» нет в сценарии" in proc.stderr and "возможно, «main»" in proc.stderr
    assert "возможно, «renew»" in proc.stderr and "возможно, «card»" in proc.stderr


def test_ivr_test_says_which_flow_a_convo_without_flow_ran_on(tmp_path: Path):
    # the line's working hours: without `now:` a convo runs at the real time, when the line may be closed
    now = "now: 2026-11-25T10:00:00+03:00\n"
    (tmp_path / "named.yaml").write_text(f"flow: {EXAMPLE}\n{now}turns: [{{dtmf: '1'}}]\n", encoding="utf-8")
    (tmp_path / "bare.yaml").write_text(f"{now}turns: [{{dtmf: '1'}}]\n", encoding="utf-8")
    proc = ivr("test", str(tmp_path), "--flow", EXAMPLE)
    assert proc.returncode == 0, proc.stdout
    assert f"Без flow: — 1 разговор по сценарию {EXAMPLE}" in proc.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["test"], "Ошибка: не хватает аргумента «paths». Справка: ivr test --help"),
        (["chat", "--nope"], "Ошибка: нет параметра --nope — может быть, --now. Справка: ivr chat --help"),
        (["chat", "a.yaml", "b.yaml"], "Ошибка: лишнее в команде: b.yaml. Справка: ivr chat --help"),
        (["звонок"], "Ошибка: нет команды «звонок». Справка: ivr --help"),
    ],
)
def test_a_mistyped_command_is_explained_in_russian_with_exit_2(args, said):
    result = ivr(*args)
    assert result.returncode == 2
    assert said in result.stderr and "Error:" not in result.stderr and "Usage:" not in result.stderr
