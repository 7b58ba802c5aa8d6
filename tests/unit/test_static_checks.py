"""Types and lint run as tests, so the one test command also says when a change breaks a contract
that only the type checker sees (a record read as a dict, a slot type name mistyped)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import background

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_mypy_passes():
    # a cold mypy run takes seconds: it starts with the test run, in pytest's idle controller
    proc = background.result("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_passes():
    proc = _run("ruff", "check", "ivr", "tests", "benchmarks", "--output-format", "concise")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# One formatter (ruff format). The homes of the one-home refactor are formatted; older modules join
# this list as they are rewritten, so a reformat never hides a change in review.
FORMATTED = [
    "ivr/slots",
    "ivr/engine/records.py",
    "ivr/engine/machine.py",
    "ivr/engine/diagram.py",
    "ivr/engine/loop.py",
    "ivr/engine/interpret.py",
    "ivr/engine/reprompts.py",
    "ivr/engine/prompts.py",
    "ivr/engine/call.py",
    "ivr/engine/engine.py",
    "ivr/engine/transcript.py",
    "ivr/convo",
    "ivr/hearing.py",
    "ivr/settings.py",
    "ivr/keypad.py",
    "ivr/cache.py",
    "ivr/terminal.py",
    "ivr/understanding/plural.py",
    "ivr/understanding/classifier.py",
    "ivr/understanding/char_grams.py",
    "ivr/understanding/vector_store.py",
    "ivr/understanding/e5_onnx.py",
    "ivr/understanding/courtesy.py",
    "ivr/channels/session.py",
    "ivr/channels/chat.py",
    "ivr/channels/trace.py",
    "ivr/channels/watch.py",
    "ivr/voice/activity.py",
    "ivr/channels/status_line.py",
    "ivr/selftest.py",
    "ivr/voice/push_to_talk.py",
    "tests/voice/test_voice_activity.py",
    "tests/unit/test_slot_types.py",
]


def test_formatted_modules_stay_formatted():
    proc = _run("ruff", "format", "--check", *FORMATTED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
