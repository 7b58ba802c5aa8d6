"""Keep chatter of third-party audio libraries off the user's terminal.

pyttsx3 prints «Audio saved to …» after every file it writes, and Kaldi (inside Vosk) and
libmpg123 (inside libsndfile, on a damaged MP3) write straight to file descriptor 2; either would corrupt the simulator's screen or a
piped transcript. Output is captured at both the Python and the descriptor level; lines that
are not known chatter (e.g. another thread printing at the same moment) are passed through
afterwards, and the dropped lines are kept on the capture object for diagnostics.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_locks = {1: threading.Lock(), 2: threading.Lock()}


class Captured:
    def __init__(self) -> None:
        self.dropped: list[str] = []


def _flush_c_stdio() -> None:
    """Push out anything a C library left in its stdio buffer while the fd still points at the capture."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def _capture(fd: int, drop: Callable[[str], bool]) -> Iterator[Captured]:
    stream_name = "stdout" if fd == 1 else "stderr"
    original = sys.__stdout__ if fd == 1 else sys.__stderr__
    result = Captured()
    with _locks[fd]:
        py_buffer = io.StringIO()
        try:
            getattr(sys, stream_name).flush()
        except (OSError, ValueError, AttributeError):
            pass
        try:
            real_fd = original.fileno() if original is not None else fd
            saved = os.dup(real_fd)
        except (OSError, ValueError, AttributeError):
            real_fd, saved = fd, None
        capture = tempfile.TemporaryFile(mode="w+b") if saved is not None else None
        redirect = contextlib.redirect_stdout if fd == 1 else contextlib.redirect_stderr
        try:
            if capture is not None:
                os.dup2(capture.fileno(), real_fd)
            with redirect(py_buffer):
                yield result
        finally:
            leftover = ""
            _flush_c_stdio()
            if capture is not None and saved is not None:
                try:
                    os.dup2(saved, real_fd)
                finally:
                    os.close(saved)
                capture.seek(0)
                leftover = capture.read().decode("utf-8", errors="replace")
                capture.close()
            text = py_buffer.getvalue() + leftover
            kept: list[str] = []
            for line in text.splitlines(keepends=True):
                (result.dropped if drop(line) else kept).append(line)
            if kept:
                stream = getattr(sys, stream_name)
                stream.write("".join(kept))
                stream.flush()


def quiet_stdout(drop_prefixes: tuple[str, ...] = ("Audio saved to",)):
    """Swallow pyttsx3's «Audio saved to …» lines."""
    return _capture(1, lambda line: line.startswith(drop_prefixes))


def _is_kaldi(line: str) -> bool:
    return "VoskAPI" in line or line.startswith(("LOG (", "VLOG", "WARNING (", "ERROR (", "ASSERTION_FAILED (")) or (
        line.startswith(("\t", "  ")) and ("kaldi" in line.lower() or "vosk" in line.lower())
    )


def quiet_kaldi_stderr():
    """Swallow Kaldi's own log lines (English, and repeated by our Russian messages anyway)."""
    return _capture(2, _is_kaldi)


def _is_mpg123(line: str) -> bool:
    # «Note: Illegal Audio-MPEG-Header…», «Warning: Xing stream size off…»,
    # «[src/libmpg123/parse.c:wetwork():1349] error: …»
    return line.startswith(("Note: ", "Warning: ", "Error: ")) or "libmpg123" in line or "mpg123" in line


def quiet_decoder_stderr():
    """Swallow libmpg123's lines about a damaged MP3 (inside libsndfile): the caller gets one
    Russian sentence about the file instead (ivr/voice/audio.py)."""
    return _capture(2, _is_mpg123)


@dataclass
class CallLog:
    path: Path
    written: bool = False  # anything landed there during the call (said at hang-up, else not)


@contextlib.contextmanager
def chatter_to_log(path: Path) -> Iterator[CallLog]:
    """For a whole spoken call: what is not the conversation goes to ``path``, not the screen.

    ALSA («underrun occurred»), PortAudio and mpg123 write to file descriptor 2 from C, and the
    ``ivr`` loggers (a model that lacks a grammar, words missing from its vocabulary) would print
    there too; on the call screen these lines broke the conversation, hundreds of words long. The
    file is appended to (a header per call), so the previous call's messages are still there.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "a", encoding="utf-8")  # noqa: SIM115 — closed below, after fd 2 is restored
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} ivr practice\n")
    log.flush()
    result = CallLog(path)
    start = log.tell()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("ivr")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    with _locks[2]:
        try:
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        saved: int | None
        try:
            saved = os.dup(2)
            os.dup2(log.fileno(), 2)
        except OSError:
            saved = None
    try:
        yield result
    finally:
        _flush_c_stdio()
        with _locks[2]:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
        logger.removeHandler(handler)
        logger.propagate = propagate
        log.flush()
        result.written = os.fstat(log.fileno()).st_size > start
        log.close()
