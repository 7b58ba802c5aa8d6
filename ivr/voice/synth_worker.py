"""The child process that runs espeak-ng for ``tts.Synthesizer`` (see ``tts``: espeak-ng's rare
segmentation faults end this process, not the caller's call).

One job per line on stdin — ``{"voice", "rate", "text", "path"}`` as JSON —, one reply per job on
the stdout it was started with: «ok», or «error: …». pyttsx3 prints «Audio saved to …» after
every file, so the replies get their own copy of stdout and stdout itself goes to /dev/null.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)
    from ivr.voice.tts import write_wav

    for line in sys.stdin.buffer:
        try:
            job = json.loads(line)
            write_wav(str(job["voice"]), int(job["rate"]), str(job["text"]), Path(job["path"]))
            replies.write("ok\n")
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which retries
            replies.write(f"error: {type(exc).__name__}: {exc}".replace("\n", " ") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
