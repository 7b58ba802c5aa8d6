"""Vosk speech models: where they live, how they are fetched, and one shared load per process.

A model is ~50 MB on disk and takes a second or two to load, so everything that recognises
speech goes through :func:`load_model`, which loads each model directory once. Locating a
model never guesses silently: a missing model is a :class:`ModelMissingError` whose message is
the exact command that fetches it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.errors import ModelMissingError, UserError
from ivr.oserrors import describe
from ivr.settings import ENV_MODEL, ENV_MODELS_DIR, Places

__all__ = ["DEFAULT_MODEL", "ENV_MODEL", "ENV_MODELS_DIR", "find_model", "list_models", "load_model", "download"]

if TYPE_CHECKING:  # pragma: no cover - typing only
    import vosk

log = logging.getLogger("ivr.voice.models")

DEFAULT_MODEL = "vosk-model-small-ru-0.22"

_CHUNK = 1 << 16
_CONNECT_TIMEOUT_S = 15
_READ_TIMEOUT_S = 60


@dataclass(frozen=True)
class ModelInfo:
    """A downloadable model; ``size``/``sha256`` are pinned only where the publisher states them."""

    name: str
    url: str
    language: str
    description: str
    approx_size: str
    size: int | None = None
    sha256: str | None = None


# The official site publishes neither a SHA-256 nor an exact byte size for these archives, so
# they are verified as zip archives (every member's CRC) instead of against a pinned digest.
KNOWN_MODELS: dict[str, ModelInfo] = {
    DEFAULT_MODEL: ModelInfo(
        name=DEFAULT_MODEL,
        url="https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip",
        language="ru",
        description="Русская компактная модель: быстрая, поддерживает грамматики меню",
        approx_size="45 МБ",
    ),
    "vosk-model-ru-0.42": ModelInfo(
        name="vosk-model-ru-0.42",
        url="https://alphacephei.com/vosk/models/vosk-model-ru-0.42.zip",
        language="ru",
        description="Русская большая модель: точнее, но медленнее и без грамматик меню",
        approx_size="1,8 ГБ",
    ),
}


def download_command(name: str = DEFAULT_MODEL) -> str:
    return f"ivr models download {name}"


def models_dir(places: Places | None = None) -> Path:
    """Models live next to the project the user runs from, unless they point elsewhere."""
    return (places or Places.from_env()).models_dir


def is_model_dir(path: Path) -> bool:
    """Both Vosk layouts keep the acoustic model as ``final.mdl`` (in ``am/`` or at the top)."""
    return path.is_dir() and ((path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file())


def _model_root(path: Path) -> Path | None:
    """Accept a model dir, or a folder holding exactly one (an archive unpacked one level too deep)."""
    if is_model_dir(path):
        return path
    if path.is_dir():
        subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if len(subdirs) == 1 and is_model_dir(subdirs[0]):
            return subdirs[0]
    return None


def require_model_dir(path: Path, origin: str) -> Path:
    """The model folder behind ``path`` (see _model_root), or a ModelMissingError naming ``origin``."""
    if not path.exists():
        raise ModelMissingError(
            f"Модель распознавания речи не найдена: {path} ({origin}) — такой папки нет.\n"
            f"Скачайте модель командой: {download_command()}"
        )
    root = _model_root(path)
    if root is None:
        raise ModelMissingError(
            f"Папка {path} ({origin}) не похожа на модель Vosk: в ней нет am/final.mdl.\n"
            f"Укажите папку распакованной модели или скачайте её командой: {download_command()}"
        )
    return root


def find_model(explicit: str | os.PathLike[str] | None = None, name: str = DEFAULT_MODEL,
               places: Places | None = None) -> Path:
    """Resolve the model in a fixed order so the user can always tell which one is used.

    Order: the explicit ``--model`` value (a path, or the name of a model in the models dir),
    then ``IVR_VOSK_MODEL``, then ``<models dir>/<name>``.
    """
    places = places or Places.from_env()
    if explicit:
        candidate = Path(explicit).expanduser()
        if not candidate.exists() and str(explicit) in KNOWN_MODELS:
            candidate = places.models_dir / str(explicit)
            if not candidate.exists():
                raise ModelMissingError(
                    f"Модель {explicit} не установлена (ожидалась в {candidate}).\n"
                    f"Скачайте её командой: {download_command(str(explicit))}"
                )
        return require_model_dir(candidate, "указана через --model")
    if places.model_from_env is not None:
        return require_model_dir(places.model_from_env, f"задана переменной окружения {ENV_MODEL}")
    candidate = places.models_dir / name
    root = _model_root(candidate) if candidate.exists() else None
    if root is not None:
        return root
    raise ModelMissingError(
        f"Модель распознавания речи {name} не найдена в {places.models_dir}.\n"
        f"Скачайте её командой: {download_command(name)}\n"
        f"(или укажите путь к распакованной модели через --model или {ENV_MODEL})"
    )


# --- loading -------------------------------------------------------------------------------

_load_lock = threading.Lock()
_loaded: dict[str, vosk.Model] = {}


def quiet_vosk() -> None:
    """Vosk logs every model file it reads to stderr, which would tear through the UI."""
    import vosk

    vosk.SetLogLevel(-2)


def load_model(path: str | os.PathLike[str]) -> vosk.Model:
    """Load a model once per process; every recognizer shares it."""
    key = str(Path(path).expanduser().resolve())
    with _load_lock:
        model = _loaded.get(key)
        if model is not None:
            return model
        root = require_model_dir(Path(key), "путь к модели")
        import vosk

        from ivr.voice.stdio import quiet_kaldi_stderr

        quiet_vosk()
        try:
            with quiet_kaldi_stderr() as kaldi:
                model = vosk.Model(str(root))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            log.debug("Vosk could not load %s:\n%s", root, "".join(kaldi.dropped))
            raise UserError(
                f"Не удалось загрузить модель распознавания из {root}: файлы модели повреждены "
                f"или неполные.\nУдалите папку и скачайте модель заново: {download_command(root.name)}"
            ) from exc
        _loaded[key] = model
        return model


def supports_grammar(path: Path) -> bool:
    """Runtime grammars need the lookahead graph pair; a static HCLG graph ignores them."""
    graph = path / "graph"
    return (graph / "Gr.fst").is_file() and (graph / "HCLr.fst").is_file()


def has_graph(path: Path) -> bool:
    graph = path / "graph"
    return supports_grammar(path) or (graph / "HCLG.fst").is_file() or (path / "HCLG.fst").is_file()


# --- listing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEntry:
    name: str
    installed: bool
    path: Path | None
    size_bytes: int | None
    description: str
    known: bool
    is_default: bool


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_models(places: Places | None = None) -> list[ModelEntry]:
    """Known models (installed or not) plus any other model found in the models dir."""
    places = places or Places.from_env()
    base = places.models_dir
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for info in KNOWN_MODELS.values():
        root = _model_root(base / info.name) if (base / info.name).exists() else None
        entries.append(
            ModelEntry(
                name=info.name,
                installed=root is not None,
                path=root,
                size_bytes=dir_size(root) if root else info.size,
                description=info.description,
                known=True,
                is_default=info.name == DEFAULT_MODEL,
            )
        )
        seen.add(info.name)
    if base.is_dir():
        for child in sorted(base.iterdir()):
            if child.name in seen or child.name.startswith("."):
                continue
            root = _model_root(child)
            if root is not None:
                entries.append(
                    ModelEntry(child.name, True, root, dir_size(root), "Модель, установленная вручную", False, False)
                )
    if places.model_from_env is not None:
        root = _model_root(places.model_from_env)
        if root is not None and all(e.path != root for e in entries):
            entries.append(
                ModelEntry(root.name, True, root, dir_size(root), f"Из переменной {ENV_MODEL}", False, False)
            )
    return entries


# --- downloading ---------------------------------------------------------------------------


def _offline_error(info: ModelInfo, dest: Path, part: Path) -> UserError:
    resume = " Загрузка продолжится с места остановки." if part.exists() and part.stat().st_size else ""
    return UserError(
        f"Сеть недоступна: не удалось скачать модель {info.name} с {info.url}.\n"
        f"Подключитесь к интернету и повторите: {download_command(info.name)}.{resume}\n"
        f"Или скачайте архив на другом компьютере и распакуйте его в {dest / info.name}"
    )


def _fetch(info: ModelInfo, dest: Path, part: Path, progress: bool) -> None:
    """Append the missing tail of the archive to ``part`` (HTTP Range), restarting if refused."""
    import requests

    for _attempt in range(2):
        offset = part.stat().st_size if part.exists() else 0
        if info.size is not None and offset == info.size:
            return
        if info.size is not None and offset > info.size:
            part.unlink()
            offset = 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            response = requests.get(
                info.url, headers=headers, stream=True, timeout=(_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S)
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _offline_error(info, dest, part) from exc
        with response:
            if response.status_code == 416 and offset:
                # The server has nothing past our offset: either we already have it all, or the
                # partial file is not a prefix of this archive. Verification decides which.
                return
            if response.status_code == 206 and offset:
                content_range = response.headers.get("Content-Range", "")
                if not content_range.startswith(f"bytes {offset}-"):
                    part.unlink()
                    continue
                mode = "ab"
            elif response.status_code == 200:
                offset = 0
                mode = "wb"
            else:
                raise UserError(
                    f"Сервер вернул ошибку HTTP {response.status_code} при загрузке {info.url}.\n"
                    f"Повторите позже: {download_command(info.name)}"
                )
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else info.size
            try:
                _stream_to(response, part, mode, offset, total, info.name, progress)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise UserError(
                    f"Загрузка модели {info.name} прервалась: соединение потеряно.\n"
                    f"Скачанная часть сохранена в {part}; повторите {download_command(info.name)}, "
                    f"и загрузка продолжится с места остановки."
                ) from exc
            except requests.RequestException as exc:  # ChunkedEncodingError and friends
                raise UserError(
                    f"Загрузка модели {info.name} прервалась: сервер оборвал передачу.\n"
                    f"Скачанная часть сохранена в {part}; повторите {download_command(info.name)}, "
                    f"и загрузка продолжится с места остановки."
                ) from exc
            except OSError as exc:  # after requests' errors, which are OSError subclasses too
                raise UserError(f"Не удалось записать {part}: {describe(exc)}") from exc
            return
    raise UserError(f"Сервер не поддерживает докачку файла {info.url}; повторите {download_command(info.name)}")


def _stream_to(response, part: Path, mode: str, offset: int, total: int | None, name: str, progress: bool) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), disable=not progress, transient=False) as bar:
        task = bar.add_task(f"Загрузка {name}", total=total, completed=offset)
        with open(part, mode) as out:
            for chunk in response.iter_content(_CHUNK):
                if chunk:
                    out.write(chunk)
                    bar.advance(task, len(chunk))


def _verify(info: ModelInfo, part: Path) -> None:
    """Reject anything but the exact archive; a rejected file is deleted so a retry starts clean."""
    def reject(problem: str) -> UserError:
        part.unlink(missing_ok=True)
        return UserError(
            f"Скачанный архив модели {info.name} повреждён: {problem}.\n"
            f"Файл удалён; повторите загрузку: {download_command(info.name)}"
        )

    size = part.stat().st_size
    if info.size is not None and size != info.size:
        raise reject(f"размер {size} байт вместо {info.size}")
    if info.sha256 is not None:
        digest = hashlib.sha256()
        with open(part, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest().lower() != info.sha256.lower():
            raise reject("контрольная сумма SHA-256 не совпадает")
    try:
        with zipfile.ZipFile(part) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise reject("это не zip-архив или он обрезан") from None
    if bad is not None:
        raise reject(f"испорчен файл {bad} внутри архива")


def _unpack(info: ModelInfo, part: Path, dest: Path) -> Path:
    """Extract into a temporary folder and rename it into place, so no half model is ever visible."""
    target = dest / info.name
    staging = Path(tempfile.mkdtemp(prefix=f".{info.name}.unpack-", dir=dest))
    try:
        with zipfile.ZipFile(part) as archive:
            base = staging.resolve()
            for member in archive.infolist():
                out = (staging / member.filename).resolve()
                if out != base and base not in out.parents:
                    part.unlink(missing_ok=True)
                    raise UserError(
                        f"Архив модели {info.name} содержит недопустимый путь {member.filename!r}; "
                        f"архив удалён."
                    )
            try:
                archive.extractall(staging)
            except OSError as exc:
                raise UserError(
                    f"Не удалось распаковать модель {info.name} в {dest}: {describe(exc)}.\n"
                    f"Освободите место на диске и повторите: {download_command(info.name)}"
                ) from exc
        root = _model_root(staging)
        if root is None:
            part.unlink(missing_ok=True)
            raise UserError(f"В архиве {info.url} нет модели Vosk (не найден am/final.mdl); архив удалён.")
        os.replace(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download(
    name: str = DEFAULT_MODEL,
    dest_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    *,
    info: ModelInfo | None = None,
) -> Path:
    """Fetch and install a model; safe to interrupt and rerun (it resumes from ``<name>.zip.part``)."""
    if info is None:
        info = KNOWN_MODELS.get(name)
        if info is None:
            known = ", ".join(KNOWN_MODELS)
            raise UserError(f"Неизвестная модель «{name}». Доступные для загрузки: {known}")
    dest = Path(dest_dir).expanduser() if dest_dir is not None else models_dir()
    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Не удалось создать папку для моделей {dest}: {describe(exc)}") from exc
    try:
        return _install(info, dest, progress)
    except BaseException:
        _drop_empty(dest / f"{info.name}.zip.part", dest if created else None)
        raise


def _drop_empty(part: Path, folder: Path | None) -> None:
    """After a failed download, leave nothing behind that holds nothing: an empty partial archive,
    and the models folder this download created if it is empty now. A partial archive with data
    stays, so that the next attempt resumes it."""
    try:
        if part.exists() and part.stat().st_size == 0:
            part.unlink()
        if folder is not None and not any(folder.iterdir()):
            folder.rmdir()
    except OSError:
        pass


def _install(info: ModelInfo, dest: Path, progress: bool) -> Path:
    target = dest / info.name
    if target.exists():
        root = _model_root(target)
        if root is not None:
            return root
        raise UserError(
            f"Папка {target} уже существует, но модели в ней нет. Удалите её и повторите: "
            f"{download_command(info.name)}"
        )
    part = dest / f"{info.name}.zip.part"
    _fetch(info, dest, part, progress)
    _verify(info, part)
    installed = _unpack(info, part, dest)
    part.unlink(missing_ok=True)
    return installed


def format_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("Б", "КБ", "МБ", "ГБ"):
        if value < 1024 or unit == "ГБ":
            return f"{value:.0f} {unit}" if unit in ("Б", "КБ") else f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return f"{size} Б"  # pragma: no cover
