"""Audio files in, audio files out.

Everything downstream (recognizer, listener, benchmarks) works on 16 kHz mono int16, so this is
the one place that copes with whatever WAV a user hands us, and the one place that turns a bad
file into a message naming the file and what is wrong with it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ivr.errors import AudioFileError
from ivr.oserrors import describe
from ivr.voice.stdio import quiet_decoder_stderr

RATE = 16000
# Containers libsndfile decodes that carry their own rate and channels; RAW (headerless) does not
# say what its bytes are, so it is refused rather than guessed.
_SUPPORTED = "WAV, FLAC, OGG, MP3"
_HEADERLESS = {"RAW"}


def _problem_from_libsndfile(exc: Exception) -> str:
    text = f"{exc} {getattr(exc, 'error_string', '')}".lower()
    if "data' chunk" in text or "no data chunk" in text:
        return "заголовок WAV неполный: нет блока с данными (файл обрезан?)"
    if "format not recognised" in text or "not recognised" in text or "unknown format" in text:
        return "это не WAV-файл (формат не распознан)"
    if "unsupported" in text or "not supported" in text:
        return "кодировка звука не поддерживается (нужен PCM 8/16/24/32 бит или float)"
    if "truncated" in text or "short" in text or "end of file" in text:
        return "файл обрезан"
    return "файл повреждён или имеет неподдерживаемый формат"


# A recording longer than this is not one caller's turn (nor a practice call): 10 minutes at 16 kHz
# are 19 MB of samples, and a 44.1 kHz stereo file is decoded to floats first.
MAX_AUDIO_S = 600


def _riff_data_size(path: Path) -> int | None:
    """The size a RIFF/WAVE header claims for its ``data`` chunk, if it is a plain WAV file.

    libsndfile quietly reads what is there, so a header that lies (a truncated download, a crafted
    file) would pass as a shorter recording; the caller is told instead."""
    with open(path, "rb") as file:
        head = file.read(65536)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(head):
        chunk, length = head[at:at + 4], int.from_bytes(head[at + 4:at + 8], "little")
        if chunk == b"data":
            return length if length != 0xFFFFFFFF else None  # "unknown" (streamed WAV)
        at += 8 + length + (length & 1)
    return None


def read_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an audio file (WAV, FLAC, OGG, MP3 — what libsndfile reads) of any rate, width and
    channel count into 16 kHz mono int16.

    A damaged MP3 makes libmpg123 write its own English lines to file descriptor 2 («Note: Illegal
    Audio-MPEG-Header…», «[src/libmpg123/parse.c:…] error…»); they are kept off the screen, and a
    file that cannot be decoded is named in one Russian sentence (AudioFileError)."""
    with quiet_decoder_stderr():
        return _decode(Path(path))


def _decode(p: Path) -> np.ndarray:
    import soundfile as sf

    if not p.exists():
        raise AudioFileError(f"Аудиофайл {p} не найден.")
    if p.is_dir():
        raise AudioFileError(f"{p} — это папка, а нужен аудиофайл ({_SUPPORTED}).")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AudioFileError(f"Не удалось прочитать аудиофайл {p}: {describe(exc)}.") from exc
    if not p.is_file():  # a FIFO or a device would be read for ever
        raise AudioFileError(f"{p} — это не обычный файл (канал или устройство), а нужен аудиофайл ({_SUPPORTED}).")
    if size == 0:
        raise AudioFileError(f"Аудиофайл {p} пуст (0 байт).")
    claimed = _riff_data_size(p)
    if claimed is not None and claimed > size:
        raise AudioFileError(f"Аудиофайл {p} повреждён: заголовок обещает {claimed} байт звука, а во всём файле "
                             f"{size} — перезапишите или перекодируйте его")
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(f"Не удалось прочитать аудиофайл {p}: {_problem_from_libsndfile(exc)}.") from exc
    except OSError as exc:
        raise AudioFileError(f"Не удалось прочитать аудиофайл {p}: {describe(exc)}.") from exc
    except TypeError as exc:  # soundfile wants a rate for a «.raw» name: nothing says what the bytes are
        raise AudioFileError(f"Аудиофайл {p} без заголовка: неизвестны частота и число каналов. "
                             f"Нужен файл {_SUPPORTED}.") from exc
    if info.format in _HEADERLESS:
        raise AudioFileError(f"Аудиофайл {p} без заголовка ({info.format}): неизвестны частота и число каналов. "
                             f"Нужен файл {_SUPPORTED}.")
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioFileError(f"В аудиофайле {p} нет звука (0 сэмплов).")
    seconds = info.frames / info.samplerate
    if seconds > MAX_AUDIO_S:
        raise AudioFileError(f"Аудиофайл {p} длится {seconds / 60:.0f} мин, а принимаются записи до "
                             f"{MAX_AUDIO_S // 60} мин — разрежьте его на части покороче.")
    try:
        if info.samplerate == RATE and info.channels == 1 and info.subtype == "PCM_16":
            data, rate = sf.read(str(p), dtype="int16", always_2d=False)
            samples = np.ascontiguousarray(data, dtype=np.int16)
        else:
            data, rate = sf.read(str(p), dtype="float32", always_2d=True)
            samples = _to_16k_mono(data, rate)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(f"Не удалось прочитать аудиофайл {p}: {_problem_from_libsndfile(exc)}.") from exc
    if samples.size == 0:
        raise AudioFileError(f"В аудиофайле {p} нет звука (0 сэмплов).")
    return samples


def _to_16k_mono(data: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    mono = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
    if rate != RATE:
        mono = soxr.resample(mono, rate, RATE, quality="HQ")
    return to_int16(mono)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float audio is [-1, 1]; anything else is assumed to already be int16-scaled."""
    arr = np.asarray(samples)
    if arr.dtype == np.int16:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return np.round(np.clip(arr, -1.0, 1.0) * 32767.0).astype(np.int16)
    return np.clip(arr, -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Resample int16 or float mono audio, returning int16."""
    import soxr

    if rate == target:
        return to_int16(samples)
    arr = np.asarray(samples)
    floats = arr.astype(np.float32) / 32768.0 if arr.dtype == np.int16 else arr.astype(np.float32)
    return to_int16(soxr.resample(floats, rate, target, quality="HQ"))


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> Path:
    """Write 16-bit PCM atomically, so a reader never sees a half-written prompt or recording."""
    import soundfile as sf

    p = Path(path)
    data = to_int16(np.asarray(samples))
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        os.close(fd)
        try:
            sf.write(tmp, data, int(rate), subtype="PCM_16", format="WAV")
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise AudioFileError(f"Не удалось записать аудиофайл {p}: {describe(exc)}.") from exc
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(f"Не удалось записать аудиофайл {p}: ошибка кодирования WAV.") from exc
    return p


def duration_s(path: str | os.PathLike[str]) -> float:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"Не удалось прочитать аудиофайл {path}: {_problem_from_libsndfile(exc)}.") from exc
    return info.frames / info.samplerate if info.samplerate else 0.0
