"""A private PulseAudio server for tests that need a real microphone and speaker path.

The server runs in a temporary directory with a null sink as the speaker and a pipe source
as the microphone; PortAudio then sees it as the ``pulse``/``default`` device. A pipe source
produces sound only while someone writes into its FIFO, so :class:`MicFeeder` keeps writing
silence in real time and splices caller utterances in when asked.

Usable from any test suite::

    from tests.voice.pulse import PulseServer, MicFeeder, pulse_available

    with PulseServer() as server:        # sets PULSE_SERVER, rescans PortAudio
        with MicFeeder(server.mic_fifo) as mic:
            mic.say(samples_16k_int16)   # the "caller" speaks into the microphone
            ...

or with the session fixture ``pulse_server`` defined in ``tests/voice/conftest.py``.
"""

from __future__ import annotations

import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

MIC_RATE = 16000
SPEAKER_NAME = "ivr_speaker"
MIC_NAME = "ivr_mic"


class PulseUnavailable(RuntimeError):
    """The pulseaudio binary is not installed."""


def pulse_available() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


def _terminate(proc: subprocess.Popen | None) -> None:
    """Stop a helper process politely, then firmly."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class PulseServer:
    """Start/stop a throwaway PulseAudio daemon (works as root and as a normal user)."""

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        start_timeout_s: float = 15.0,
        settle_s: float = 2.5,
    ) -> None:
        self._own_dir = base_dir is None
        self.dir = Path(base_dir) if base_dir is not None else Path(tempfile.mkdtemp(prefix="ivr-pulse-"))
        self.runtime = self.dir / "runtime"
        self.socket = self.runtime / "native"
        self.mic_fifo = self.dir / "mic.fifo"
        self.log_path = self.dir / "pulseaudio.log"
        self.start_timeout_s = start_timeout_s
        self.settle_s = settle_s
        self._settled_at = 0.0
        self.process: subprocess.Popen | None = None
        self.speaker: SinkRecorder | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    def env(self) -> dict[str, str]:
        """Environment for the daemon and for clients: everything private to ``self.dir``."""
        home = self.dir / "home"
        return {
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_STATE_PATH": str(self.dir / "state"),
            "XDG_CONFIG_HOME": str(home / ".config"),
        }

    def _pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env(), "PULSE_SERVER": self.server}
        return subprocess.run(["pactl", *args], env=env, capture_output=True, text=True, timeout=10, check=check)

    def start(self, *, settle: bool = True) -> PulseServer:
        if not pulse_available():
            raise PulseUnavailable("pulseaudio/pactl not installed (apt-get install pulseaudio pulseaudio-utils)")
        for sub in ("runtime", "home", "state"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime, 0o700)
        self.mic_fifo.unlink(missing_ok=True)  # module-pipe-source creates the FIFO itself
        cmd = [
            "pulseaudio",
            "-n",  # no default.pa: only the modules below
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--system=false",  # as root this only warns; --system would need a pulse user
            "--disallow-exit",
            "--use-pid-file=false",
            "--log-target=stderr",
            "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L", f"module-null-sink sink_name={SPEAKER_NAME}",
            "-L",
            f"module-pipe-source source_name={MIC_NAME} file={self.mic_fifo} "
            f"format=s16le rate={MIC_RATE} channels=1",
        ]
        log = open(self.log_path, "wb")
        env = {**os.environ, **self.env()}
        env.pop("PULSE_SERVER", None)
        self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with {self.process.returncode}: {self.log_path.read_text(errors='replace')}")
            if self.socket.exists() and self._pactl("info", check=False).returncode == 0:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pulseaudio did not come up: {self.log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        self._pactl("set-default-sink", SPEAKER_NAME)
        self._pactl("set-default-source", MIC_NAME)
        # The null sink starts out rendering in 2-second blocks, and a PortAudio (ALSA plugin)
        # stream stalls until the sink next asks for data. A low-latency recorder on the sink's
        # monitor, kept for the whole session, makes the sink run in small blocks; it also lets
        # tests observe what actually reached the "speaker". The first big block must pass once.
        self.speaker = SinkRecorder(self).start()
        self._settled_at = time.monotonic() + self.settle_s
        if settle:
            self.settle()
        return self

    def settle(self) -> None:
        """Waits out the rest of ``settle_s`` since the start: the sink's first big block."""
        time.sleep(max(0.0, self._settled_at - time.monotonic()))

    def activate(self) -> None:
        """Point this process's audio clients (PortAudio → ALSA → pulse) at this server."""
        for key, value in {**self.env_client()}.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        from ivr.voice.devices import rescan

        rescan()

    def env_client(self) -> dict[str, str]:
        return {"PULSE_SERVER": self.server, "PULSE_RUNTIME_PATH": str(self.runtime)}

    def deactivate(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        from ivr.voice.devices import rescan

        rescan()

    def stop(self) -> None:
        if self.speaker is not None:
            self.speaker.stop()
            self.speaker = None
        proc, self.process = self.process, None
        _terminate(proc)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PulseServer:
        self.start()
        self.activate()
        return self

    def __exit__(self, *exc) -> None:
        self.deactivate()
        self.stop()


class MicFeeder:
    """Writes into the pipe-source FIFO in real time: silence, or an utterance when asked."""

    def __init__(self, fifo: str | os.PathLike[str], block_ms: int = 20) -> None:
        self.fifo = Path(fifo)
        self.block = int(MIC_RATE * block_ms / 1000)
        self._utterances: queue.Queue[np.ndarray] = queue.Queue()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        # ``time.monotonic()`` when each utterance's first block went into the FIFO, in order:
        # benchmarks and tests time what follows (barge-in, the answer) from the caller's side
        self.said_at: list[float] = []

    def say(self, samples: np.ndarray) -> None:
        """Queue 16 kHz mono int16 speech; it is written at real-time pace after what is queued."""
        self._idle.clear()
        self._utterances.put(np.ascontiguousarray(samples, dtype=np.int16))

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def _run(self) -> None:
        silence = bytes(self.block * 2)
        try:
            fd = os.open(self.fifo, os.O_WRONLY)
            os.set_blocking(fd, False)  # so that stop() is not stuck behind a full FIFO
            try:
                t0 = time.monotonic()
                sent = 0
                current: np.ndarray | None = None
                pos = 0
                while not self._stop.is_set():
                    if current is None:
                        try:
                            current, pos = self._utterances.get_nowait(), 0
                        except queue.Empty:
                            self._idle.set()
                    if current is not None:
                        if pos == 0:
                            self.said_at.append(time.monotonic())
                        chunk = current[pos : pos + self.block]
                        pos += self.block
                        data = chunk.tobytes() + bytes((self.block - chunk.size) * 2)
                        if pos >= current.size:
                            current = None
                    else:
                        data = silence
                    if not self._write(fd, data):
                        return
                    sent += self.block
                    delay = t0 + sent / MIC_RATE - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
            finally:
                os.close(fd)
        except BaseException as exc:  # surfaced by the test through .error
            self.error = exc
            self._idle.set()

    def _write(self, fd: int, data: bytes) -> bool:
        """Write one block, waiting as long as the FIFO is full (the pipe source reads only while
        someone records from it); False if stop() was called meanwhile."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                if self._stop.is_set():
                    return False
                select.select([], [fd], [], 0.05)
        return True

    def start(self) -> MicFeeder:
        self._thread = threading.Thread(target=self._run, name="ivr-mic-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MicFeeder:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SinkRecorder:
    """Records what reaches the speaker (the null sink's monitor) with ``parec``.

    Each block read is stamped with ``time.monotonic()`` on arrival, so a test can see when
    sound stopped reaching the speaker, not only when the player said it stopped.
    """

    def __init__(self, server: PulseServer, rate: int = 16000, block_ms: int = 10) -> None:
        self.server = server
        self.rate = rate
        self.block_bytes = int(rate * block_ms / 1000) * 2
        self.blocks: list[tuple[float, np.ndarray]] = []
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SinkRecorder:
        env = {**os.environ, **self.server.env(), "PULSE_SERVER": self.server.server}
        self._proc = subprocess.Popen(
            [
                "parec",
                f"--device={SPEAKER_NAME}.monitor",
                "--format=s16le",
                f"--rate={self.rate}",
                "--channels=1",
                "--raw",
                "--latency-msec=10",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        while True:
            data = out.read(self.block_bytes)
            if not data:
                return
            self.blocks.append((time.monotonic(), np.frombuffer(data[: len(data) // 2 * 2], dtype=np.int16)))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        _terminate(proc)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def loud_times(self, since: float = 0.0, threshold: int = 200) -> list[float]:
        """Arrival times (``time.monotonic()``) of blocks after ``since`` that carried sound."""
        return [
            t
            for t, block in list(self.blocks)
            if t >= since and block.size and int(np.abs(block.astype(np.int32)).max()) > threshold
        ]

    def __enter__(self) -> SinkRecorder:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
