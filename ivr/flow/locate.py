"""Where flows are found when the user names none."""

from __future__ import annotations

from pathlib import Path

DEFAULT_FLOW = Path("flows") / "gosuslugi.yaml"


def default_flow_path() -> Path:
    """``flows/gosuslugi.yaml`` in the current folder, else the one next to this checkout of ivr."""
    here = Path.cwd() / DEFAULT_FLOW
    if here.exists():
        return here
    return Path(__file__).resolve().parents[2] / DEFAULT_FLOW
