"""How pytest-xdist shares the suite between its workers (`-n 3 --dist loadgroup` in pyproject.toml).

Three workers on a two-core machine: the real-time tests wait for audio most of their time (about
30 s of a 45 s group), and a third worker fills that idle core. It runs at nice 10 and gets single
tests only, never a group, so it takes the CPU the other two leave and not theirs: the real-time
tests are never starved by it. With two workers it is the same as before (no worker niced).

Tests are sent to workers one by one, except for these groups, each of which runs on one worker,
one test after another:

* ``realtime``: everything that uses the private PulseAudio server (``pulse_server``), and the
  other tests that measure wall-clock timing (real-time WAV source and file-sink player): one server
  per run instead of one per worker, and these tests never run at the same time as each other
  (a test that proved flaky under load is serialized here, never given looser timing).
* ``listen``: the listening tests on WAV files, sharing one recognizer (see below), and the other
  tests that load the Korean Vosk model; first on a fresh worker, in file order, beside the
  real-time group instead of inside it.
* ``privacy_scan``: the personal-data scan, whose module fixture runs every convo file and several
  ``ivr`` processes; split up, each worker would run it all again.

The groups are listed here by node id because ``--dist loadgroup`` ignores ``xdist_group`` marks
with pytest 9.2 (pytest-dev/pytest-xdist#1386); marks would still be honoured if they worked.
A new PulseAudio test outside these files still works on any worker (each worker starts its own
server in its own temporary directory), it is only not serialized with the others.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # plain `pytest` does not put the project root on sys.path
    sys.path.insert(0, str(ROOT))

# One cache of recomputable files (phrase vectors, prompt audio) for the whole run, shared by both
# workers and the `ivr` processes the tests start: the Госуслуги menus are embedded once per run
# (about 5 s on a fresh machine) instead of once per test module, and a developer's own cache is
# left alone. Tests of the cache itself use folders of their own.
os.environ.setdefault("IVR_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".ivr-cache" / "tests"))

GROUPS = {
    "tests/voice/test_voice_pulse.py::": "realtime",
    "tests/voice/test_practice_e2e.py::test_spoken_call_through_microphone_and_speaker": "realtime",
    "tests/voice/test_practice_e2e.py::test_silence_from_the_microphone_raises_noinput": "realtime",
    "tests/voice/test_practice_e2e.py::test_a_microphone_that_stops_mid_call_": "realtime",
    "tests/voice/test_practice_e2e.py::test_ivr_practice_command_end_to_end": "realtime",
    "tests/voice/test_voice_listen.py::test_key_pressed_from_another_thread_during_realtime_listening": "realtime",
    # the rest of the listening module, in file order on one worker: it shares one Vosk recognizer,
    # whose decoding (confidences, endpoint step) depended on which tests had used it before — one
    # CI run split the module across workers and a turn compared against its baseline came out
    # different. It reads files faster than real time, so it need not wait for the real-time group.
    "tests/voice/test_voice_listen.py::": "listen",
    # the other tests that load the Korean model, beside them: one worker fewer loads it (2.2 s of
    # CPU each time on a fresh machine)
    "tests/voice/test_voice_stt.py::": "listen",
    "tests/voice/test_voice_commands.py::": "listen",
    "tests/voice/test_voice_models.py::": "listen",
    "tests/voice/test_practice_e2e.py::": "listen",  # after its real-time tests, listed above
    "tests/voice/test_voice_playback.py::test_realtime_": "realtime",
    "tests/voice/test_voice_playback.py::test_new_prompt_interrupts_the_previous_one": "realtime",
    # one module fixture runs every convo file and several `ivr` processes (~9 s): once, not per worker
    "tests/unit/test_privacy_scan.py::": "privacy_scan",
}


def _end_worker_at_once() -> None:
    """Ends an xdist worker without the interpreter's own teardown.

    Run last of the worker's exit handlers, after the run has been reported to the controller and
    every other handler (PortAudio's, logging's) has run. What is skipped is freeing the heap object
    by object — a worker holds the Vosk model and every test module — which took 1–2.5 s at the end
    of each run (more on a loaded machine) while the controller waited for the process to go."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        # registered before any test imports a library with its own exit handler: runs after them
        atexit.register(_end_worker_at_once)
        if config.workerinput["workerid"] == _idle_worker(config.workerinput["workercount"]):
            os.nice(10)
    # in the controlling process (or the only one, with -n 0), when tests are to run
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        from tests.background import start

        workers = getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "tx", None))
        start(config.args, config.invocation_params.dir, defer=workers)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """The first worker has collected (the other is about done): the background jobs may start."""
    from tests.background import launch

    launch()


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        from tests.background import stop

        stop()


def group_of(nodeid: str) -> str | None:
    for prefix, group in GROUPS.items():
        if nodeid.startswith(prefix):
            return group
    return None


def _idle_worker(count: int) -> str | None:
    """The worker that runs below the others (nice 10) and never gets a group: the third of three."""
    return f"gw{count - 1}" if count >= 3 else None


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    idle = _idle_worker(len(config.getvalue("tx") or ()))

    class Scheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            if node.gateway.id == idle:
                # the niced worker takes single tests only: a group's timing tests must not wait
                # for the CPU, and a group stuck below the others would end the run last
                scope = next((s for s in self.workqueue if s not in GROUPS.values()), None)
                if scope is None:
                    return
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return Scheduling(config, log)
