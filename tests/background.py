"""Work that only produces a result, started in pytest's controlling process when the run starts.

With xdist the controlling process sits idle while the two workers run the tests, and the real-time
worker mostly waits for audio: a cold ``mypy`` run, filling the run's prompt-audio cache, loading the
Vosk model in a fresh process or encoding the meaning evaluation's phrasings costs seconds of CPU
that fit in that idle time. Each job is a real process with its own exit code and
output; the test that needs it waits for it and asserts on what it did, exactly as if the test had
started it (and does start it itself when no controller did: ``-n 0``, one test file, a job missing).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_ENV = "IVR_TEST_JOBS"  # the folder of this run's jobs, inherited by the workers

# name → (test file that waits for it, command); each runs with the project root as working folder
JOBS: dict[str, tuple[str, list[str]]] = {
    "mypy": (
        "tests/unit/test_static_checks.py",
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache")],
    ),
    "prompt_audio": (
        "tests/voice/test_prompt_duration.py",
        [sys.executable, "-m", "tests.voice.prompt_audio_job"],
    ),
    "model_loading": (
        "tests/voice/test_voice_models.py",
        [
            sys.executable,
            "-c",
            "from tests.voice.test_voice_models import load_a_good_and_a_broken_model; "
            "load_a_good_and_a_broken_model()",
        ],
    ),
    "report_split": (
        "tests/unit/test_semantic.py",
        [
            sys.executable,
            "-c",
            "from tests.unit.test_semantic import report_split_tallies; report_split_tallies()",
        ],
    ),
}


def _wanted(test_file: str, args: list[str], here: Path) -> bool:
    """Whether the run's arguments take in ``test_file`` (a job no test waits for is not started)."""
    target = (ROOT / test_file).resolve()
    for arg in args or ["tests"]:
        path = (here / arg.split("::")[0]).resolve()
        if target == path or path in target.parents:
            return True
    return False


_running: list[subprocess.Popen[str]] = []
_pending: list[str] = []


def start(args: list[str], here: Path, *, defer: bool = False) -> None:
    """Prepares the jobs whose tests this run may reach and starts them, or with ``defer`` leaves
    that to :func:`launch`; called once, in the controlling process, before any worker starts
    (the workers find the run's folder in their environment)."""
    folder = Path(tempfile.mkdtemp(prefix="ivr-test-jobs-"))
    os.environ[_ENV] = str(folder)
    _pending[:] = [name for name, (test_file, _) in JOBS.items() if _wanted(test_file, args, here)]
    if not defer:
        launch()


def launch() -> None:
    """Starts the prepared jobs (once). With workers this waits until they have collected the
    tests: collection needs both cores, and even niced the jobs slowed it by seconds when the
    machine was busy; a test that waits for a job runs only after collection anyway."""
    while _pending:
        folder, name = Path(os.environ[_ENV]), _pending.pop(0)
        command = JOBS[name][1]
        out = (folder / f"{name}.out").open("w", encoding="utf-8")
        # the exit code is written last, by a shell around the job, so a reader that sees it
        # knows the output is complete even if this process has gone
        script = (
            f'"$@"; echo $? > "{folder}/{name}.rc.tmp" && mv "{folder}/{name}.rc.tmp" "{folder}/{name}.rc"'
        )
        process = subprocess.Popen(
            ["sh", "-c", script, "job", *command],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group, ended whole by stop()
            # below the workers: the job takes the CPU they leave idle (the real-time worker
            # mostly waits for audio), not theirs
            preexec_fn=lambda: os.nice(10),
        )
        _running.append(process)
        (folder / f"{name}.started").touch()


def stop() -> None:
    """Ends the jobs no test waited for (a run of a few tests) and removes the run's folder."""
    for process in _running:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    folder = os.environ.pop(_ENV, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def result(name: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The finished job ``name``: waited for if the controller started it, run here otherwise."""
    command = JOBS[name][1]
    folder = os.environ.get(_ENV)
    if not folder or not (Path(folder) / f"{name}.started").exists():
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return subprocess.CompletedProcess(command, proc.returncode, proc.stdout + proc.stderr, "")
    rc = Path(folder) / f"{name}.rc"
    deadline = time.monotonic() + timeout
    while not rc.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the background job {name} did not finish in {timeout:.0f} s")
        time.sleep(0.05)
    output = (Path(folder) / f"{name}.out").read_text(encoding="utf-8")
    return subprocess.CompletedProcess(command, int(rc.read_text()), output, "")
