"""The ``ivr`` command for tests, two ways (one home instead of a helper per test file).

``ivr_process`` starts a real interpreter: for what only a process shows (signals, exit on a
crash, standard input from a pipe, two calls at once). ``ivr_here`` runs the same entry point in
the test's own process with its own argv, working folder, standard streams and environment: what
the user sees and the exit code are the same, without the ~0.5 s an interpreter start costs
(dozens of command-line tests took a third of the suite that way).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ivr_process(
    *args: object, cwd: Path = ROOT, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=120,
        env=env,
    )


def ivr_here(
    *args: object, cwd: Path = ROOT, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    from ivr import cli

    argv = ["ivr", *map(str, args)]
    saved_env, saved_argv, saved_stdin, saved_cwd = dict(os.environ), sys.argv, sys.stdin, os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    code: int
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        sys.argv, sys.stdin = argv, io.StringIO(stdin)
        os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli.main()
                code = 0
            except SystemExit as exited:
                code = exited.code if isinstance(exited.code, int) else (0 if exited.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        sys.argv, sys.stdin = saved_argv, saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())
