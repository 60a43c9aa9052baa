"""The root key: a 0600 file in DATA_DIR created once, or KINKO_ROOT_KEY; and purpose-bound secret sealing."""

import base64
import stat
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import crypto, keystore


@pytest.fixture(autouse=True)
def _fresh_root_key(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path / "data"
    monkeypatch.delenv("KINKO_ROOT_KEY", raising=False)
    keystore._root_key.cache_clear()
    yield
    keystore._root_key.cache_clear()


def test_root_key_creates_a_key_file_in_the_data_dir(settings):
    key = keystore.root_key()
    path = settings.DATA_DIR / keystore.ROOT_KEY_FILE
    assert base64.b64decode(path.read_text()) == key
    assert len(key) == crypto.KEY_BYTES


def test_root_key_file_is_readable_by_its_owner_only(settings):
    keystore.root_key()
    mode = stat.S_IMODE((settings.DATA_DIR / keystore.ROOT_KEY_FILE).stat().st_mode)
    assert mode == 0o600


def test_root_key_is_reused_from_the_file_by_a_later_process(settings):
    first = keystore.root_key()
    written = (settings.DATA_DIR / keystore.ROOT_KEY_FILE).read_bytes()
    keystore._root_key.cache_clear()  # as if a new process started
    assert keystore.root_key() == first
    assert (settings.DATA_DIR / keystore.ROOT_KEY_FILE).read_bytes() == written


def test_root_key_reads_a_key_file_written_by_the_operator(settings):
    chosen = bytes(range(32))
    settings.DATA_DIR.mkdir(parents=True)
    (settings.DATA_DIR / keystore.ROOT_KEY_FILE).write_text(base64.b64encode(chosen).decode() + "\n")
    assert keystore.root_key() == chosen


def test_root_key_from_environment_wins_over_the_file(settings, monkeypatch):
    keystore.root_key()
    chosen = bytes(range(100, 132))
    monkeypatch.setenv("KINKO_ROOT_KEY", base64.b64encode(chosen).decode())
    assert keystore.root_key() == chosen


def test_root_key_from_environment_creates_no_file(settings, monkeypatch):
    monkeypatch.setenv("KINKO_ROOT_KEY", base64.b64encode(bytes(32)).decode())
    keystore.root_key()
    assert not (settings.DATA_DIR / keystore.ROOT_KEY_FILE).exists()


def test_root_key_from_environment_that_is_not_base64_is_refused(monkeypatch):
    monkeypatch.setenv("KINKO_ROOT_KEY", "not base64 at all!")
    with pytest.raises(ImproperlyConfigured, match="KINKO_ROOT_KEY"):
        keystore.root_key()


def test_root_key_from_environment_of_the_wrong_length_is_refused(monkeypatch):
    monkeypatch.setenv("KINKO_ROOT_KEY", base64.b64encode(bytes(16)).decode())
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        keystore.root_key()


def test_root_key_file_of_the_wrong_length_is_refused(settings):
    settings.DATA_DIR.mkdir(parents=True)
    (settings.DATA_DIR / keystore.ROOT_KEY_FILE).write_text(base64.b64encode(bytes(31)).decode())
    with pytest.raises(ImproperlyConfigured):
        keystore.root_key()


def test_two_processes_creating_the_root_key_at_once_end_up_with_the_same_key(settings, monkeypatch):
    # The first starter has created root.key (O_EXCL) but not yet written it when the second one looks.
    path = keystore.root_key_path()
    real_random_bytes = crypto.random_bytes
    first_is_writing, let_first_finish = threading.Event(), threading.Event()
    calls = []

    def random_bytes(n: int) -> bytes:
        calls.append(n)
        if len(calls) == 1:
            first_is_writing.set()
            assert let_first_finish.wait(timeout=10)
        return real_random_bytes(n)

    monkeypatch.setattr(crypto, "random_bytes", random_bytes)
    results: dict[str, object] = {}

    def start(name: str) -> None:
        try:
            results[name] = keystore._load_or_create_file(path)
        except Exception as exc:  # recorded and asserted on below
            results[name] = exc

    first = threading.Thread(target=start, args=("first",))
    second = threading.Thread(target=start, args=("second",))
    first.start()
    assert first_is_writing.wait(timeout=10)
    second.start()
    # A second starter may finish on its own or wait for the first one; either way it gets a moment alone.
    second.join(timeout=1)
    let_first_finish.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert isinstance(results["second"], bytes), results["second"]
    assert results["first"] == results["second"]


def test_unseal_secret_returns_what_seal_secret_sealed():
    sealed = keystore.seal_secret(b"SecretKey", b"apikey:AKIDone")
    assert keystore.unseal_secret(sealed, b"apikey:AKIDone") == b"SecretKey"


def test_seal_secret_never_contains_the_plaintext():
    assert b"SecretKeyValue" not in keystore.seal_secret(b"SecretKeyValue", b"apikey:AKIDone")


def test_unseal_secret_with_another_purpose_fails():
    sealed = keystore.seal_secret(b"SecretKey", b"apikey:AKIDone")
    with pytest.raises(crypto.DecryptError):
        keystore.unseal_secret(sealed, b"apikey:AKIDtwo")


def test_unseal_secret_under_another_root_key_fails(monkeypatch):
    sealed = keystore.seal_secret(b"SecretKey", b"apikey:AKIDone")
    monkeypatch.setenv("KINKO_ROOT_KEY", base64.b64encode(bytes(32)).decode())
    with pytest.raises(crypto.DecryptError):
        keystore.unseal_secret(sealed, b"apikey:AKIDone")
