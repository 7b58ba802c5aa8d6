from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.errors import AudioFileError
from ivr.voice.audio import RATE, read_audio, resample, to_int16, write_wav


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_16k_mono_pcm16_is_read_unchanged(tmp_path):
    samples = (np.arange(-8000, 8000) % 3000 - 1500).astype(np.int16)
    path = tmp_path / "a.wav"
    sf.write(path, samples, RATE, subtype="PCM_16")
    out = read_audio(path)
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, samples)


@pytest.mark.parametrize(
    "rate,channels,subtype",
    [
        (44100, 2, "PCM_16"),
        (44100, 2, "PCM_24"),
        (8000, 1, "PCM_U8"),
        (48000, 1, "PCM_32"),
        (22050, 1, "FLOAT"),
        (32000, 6, "DOUBLE"),
    ],
)
def test_any_rate_width_and_channel_count_becomes_16k_mono(tmp_path, rate, channels, subtype):
    mono = _tone(rate)
    data = np.repeat(mono[:, None], channels, axis=1)
    path = tmp_path / f"in_{rate}_{channels}_{subtype}.wav"
    sf.write(path, data, rate, subtype=subtype)
    out = read_audio(path)
    assert out.dtype == np.int16 and out.ndim == 1
    assert abs(out.size - int(0.5 * RATE)) <= 2
    reference = to_int16(_tone(RATE))
    n = min(out.size, reference.size) - 200
    corr = np.corrcoef(out[100:n].astype(float), reference[100:n].astype(float))[0, 1]
    assert corr > 0.98, f"resampled tone does not match: r={corr:.3f}"


def test_stereo_is_mixed_down(tmp_path):
    left = _tone(RATE)
    data = np.stack([left, np.zeros_like(left)], axis=1)
    path = tmp_path / "st.wav"
    sf.write(path, data, RATE, subtype="PCM_16")
    out = read_audio(path)
    assert np.abs(out).max() == pytest.approx(0.25 * 32767, rel=0.02)


def test_missing_file(tmp_path):
    path = tmp_path / "нет-такого.wav"
    with pytest.raises(AudioFileError) as err:
        read_audio(path)
    assert str(path) in str(err.value) and "не найден" in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioFileError) as err:
        read_audio(path)
    assert str(path) in str(err.value) and "пуст" in str(err.value)


def test_text_file_renamed_to_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("это не звук, а текст\n" * 20, encoding="utf-8")
    with pytest.raises(AudioFileError) as err:
        read_audio(path)
    assert str(path) in str(err.value) and "не WAV" in str(err.value)


def test_truncated_header(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, _tone(RATE), RATE, subtype="PCM_16")
    bad = tmp_path / "cut.wav"
    bad.write_bytes(good.read_bytes()[:30])
    with pytest.raises(AudioFileError) as err:
        read_audio(bad)
    assert str(bad) in str(err.value)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(AudioFileError) as err:
        read_audio(tmp_path)
    assert str(tmp_path) in str(err.value) and "папка" in str(err.value)


def test_wav_without_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.int16), RATE, subtype="PCM_16")
    with pytest.raises(AudioFileError) as err:
        read_audio(path)
    assert str(path) in str(err.value) and "нет звука" in str(err.value)


@pytest.mark.parametrize("ext", ["flac", "ogg", "mp3"])
def test_compressed_audio_is_read_like_wav(tmp_path, ext):
    tone = to_int16(_tone(22050))
    wav, other = tmp_path / "x.wav", tmp_path / f"x.{ext}"
    sf.write(wav, tone, 22050, subtype="PCM_16")
    sf.write(other, tone, 22050)
    original, decoded = read_audio(wav), read_audio(other)
    assert abs(decoded.size - original.size) <= 1200  # MP3 pads a frame at the start
    assert decoded.size > 0 and np.abs(decoded).max() > 1000


@pytest.mark.parametrize("name", ["x.raw", "x.pcm"])
def test_headerless_audio_is_refused_by_name(tmp_path, name):
    raw = tmp_path / name
    sf.write(raw, to_int16(_tone(RATE)), RATE, format="RAW", subtype="PCM_16")
    with pytest.raises(AudioFileError) as err:
        read_audio(raw)
    assert str(raw) in str(err.value)


def test_write_wav_round_trip(tmp_path):
    samples = to_int16(_tone(22050))
    path = write_wav(tmp_path / "sub" / "out.wav", samples, 22050)
    data, rate = sf.read(path, dtype="int16")
    assert rate == 22050
    np.testing.assert_array_equal(data, samples)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temporary file left behind"


def test_write_wav_reports_unwritable_destination(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "out.wav"  # a file where a folder should be
    with pytest.raises(AudioFileError) as err:
        write_wav(target, np.zeros(10, dtype=np.int16), RATE)
    assert str(target) in str(err.value)


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]),
    n=st.integers(min_value=1, max_value=20000),
)
def test_resample_keeps_duration(rate, n):
    samples = np.random.default_rng(n).integers(-20000, 20000, size=n).astype(np.int16)
    out = resample(samples, rate, RATE)
    assert out.dtype == np.int16
    assert abs(out.size - n * RATE / rate) <= 1


def test_audio_that_cannot_be_one_callers_turn_is_refused_by_name(tmp_path):
    """A header that promises more than the file holds, a 12-minute recording and a device: each is
    an AudioFileError naming the file and the problem (the first two were read quietly before)."""
    import struct

    import soundfile as sf

    from ivr.errors import AudioFileError
    from ivr.voice.audio import read_audio

    liar = tmp_path / "liar.wav"
    data = (np.sin(np.arange(1000) / 5) * 10000).astype("<i2").tobytes()
    liar.write_bytes(b"RIFF" + struct.pack("<I", 36 + 2_000_000) + b"WAVEfmt "
                     + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data"
                     + struct.pack("<I", 2_000_000) + data)
    with pytest.raises(AudioFileError, match="liar.wav повреждён: заголовок обещает 2000000 байт"):
        read_audio(liar)
    long = tmp_path / "long.wav"
    sf.write(long, np.zeros(16000 * 700, dtype=np.int16), 16000)
    with pytest.raises(AudioFileError, match="long.wav длится 12 мин"):
        read_audio(long)
    with pytest.raises(AudioFileError, match="не обычный файл"):
        read_audio("/dev/zero")
