"""Players without a sound card: the file sink, and open_player() on a machine with no output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ivr.voice.playback import FileSinkPlayer, Player

RATE = 22050


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_file_sink_is_a_player(tmp_path):
    assert isinstance(FileSinkPlayer(tmp_path / "x.wav"), Player)


def test_realtime_play_is_non_blocking_and_wait_returns_at_the_end(tmp_path):
    player = FileSinkPlayer(tmp_path / "out.wav", realtime=True)
    started = time.monotonic()
    player.play(tone(0.4), RATE)
    assert time.monotonic() - started < 0.05
    assert player.is_playing
    assert player.wait(2.0)
    assert 0.35 <= time.monotonic() - started <= 0.8
    assert not player.is_playing
    data, rate = sf.read(tmp_path / "out.wav", dtype="int16")
    assert rate == RATE and data.size == int(0.4 * RATE)


def test_realtime_barge_in_stops_within_100_ms(tmp_path):
    player = FileSinkPlayer(tmp_path / "out.wav", realtime=True)
    player.play(tone(5.0), RATE)
    time.sleep(0.5)
    player.stop()
    record = player.last
    assert record.interrupted and not player.is_playing
    assert record.stop_latency_s < 0.1
    heard = sf.info(tmp_path / "out.wav").duration
    assert 0.4 <= heard <= 0.65, heard
    assert record.played_s == pytest.approx(heard, abs=1e-3)


def test_simulated_time_plays_exactly_what_time_allows(tmp_path):
    player = FileSinkPlayer(tmp_path / "sim.wav", realtime=False)
    player.play(tone(2.0), RATE)
    assert player.advance(0.25) == int(0.25 * RATE)
    assert player.is_playing
    player.stop()
    assert sf.info(tmp_path / "sim.wav").frames == int(0.25 * RATE)
    player.play(tone(0.5), RATE)
    assert player.wait(0)
    assert sf.info(tmp_path / "sim.wav").frames == int(0.25 * RATE) + int(0.5 * RATE)


def test_new_prompt_interrupts_the_previous_one(tmp_path):
    player = FileSinkPlayer(None, realtime=True)
    player.play(tone(3.0), RATE)
    time.sleep(0.1)
    player.play(tone(0.1), RATE)
    assert player.history[0].interrupted
    assert player.wait(1.0)
    assert player.history[1].played_samples == player.history[1].requested_samples


def test_open_player_without_any_output_device_returns_none(tmp_path):
    """No sound server and no sound card: the simulator must print instead of failing."""
    if any(Path("/dev/snd").glob("pcmC*p")):
        pytest.skip("this machine has a real sound card, so there is an output device")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE")}
    env["PULSE_SERVER"] = f"unix:{tmp_path / 'no-such-socket'}"
    env["PULSE_RUNTIME_PATH"] = str(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    code = "from ivr.voice.playback import open_player; print(open_player())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
