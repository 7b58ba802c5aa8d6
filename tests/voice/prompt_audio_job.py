"""The prompt-audio job of a test run (tests/background.py): every prompt of every shipped flow
synthesized into the run's audio cache, in a child process that is started again if it crashes.

espeak-ng ended this process with a segmentation fault twice in about fourteen cold runs of ~400
prompts each, when it still ran in-process under pyttsx3; what was synthesized before stays in
the cache, so the next attempt only does the rest. The product now runs espeak-ng in a child
process of its own (``ivr.voice.tts``), so a crash costs one attempt there; this outer rerun is
kept as a second line for the test run's timing.
"""

from __future__ import annotations

import subprocess
import sys

ATTEMPTS = 3
JOB = "from tests.voice.test_prompt_duration import synthesize_all; synthesize_all()"


def main() -> int:
    for attempt in range(1, ATTEMPTS + 1):
        code = subprocess.run([sys.executable, "-c", JOB]).returncode
        if code == 0:
            return 0
        print(f"synthesis ended with exit code {code} (attempt {attempt} of {ATTEMPTS})", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
