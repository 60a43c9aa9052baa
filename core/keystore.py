"""The root key: from KINKO_ROOT_KEY, else a 0600 file in the data dir created once. Seals stored secrets."""

import base64
import binascii
import functools
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core import crypto

ROOT_KEY_FILE = "root.key"


def root_key_path() -> Path:
    return Path(settings.DATA_DIR) / ROOT_KEY_FILE


def _decode(value: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{origin} is not valid base64") from None
    if len(key) != crypto.KEY_BYTES:
        raise ImproperlyConfigured(f"{origin} must decode to {crypto.KEY_BYTES} bytes")
    return key


def _load_or_create_file(path: Path) -> bytes:
    if path.exists():
        return _decode(path.read_text(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a complete temp file, then link it into place: os.link fails if the name exists, so of two processes
    # starting at once exactly one key wins and nobody ever reads a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(crypto.random_bytes(crypto.KEY_BYTES)).decode())
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _decode(path.read_text(), str(path))


@functools.cache
def _root_key(env_value: str | None, path: str) -> bytes:
    if env_value:
        return _decode(env_value, "KINKO_ROOT_KEY")
    return _load_or_create_file(Path(path))


def root_key() -> bytes:
    return _root_key(os.environ.get("KINKO_ROOT_KEY"), str(root_key_path()))


def seal_secret(plaintext: bytes, purpose: bytes) -> bytes:
    """Seal a stored secret under the root key; `purpose` (e.g. b"apikey:<SecretId>") is bound as AAD."""
    return crypto.seal(root_key(), plaintext, purpose)


def unseal_secret(sealed: bytes, purpose: bytes) -> bytes:
    return crypto.unseal(root_key(), sealed, purpose)


def keyed_digest(purpose: bytes, value: bytes) -> str:
    """HMAC-SHA256 under a key derived from the root key: a lookup index for a secret that is stored sealed."""
    mac_key = crypto.hkdf_sha256(root_key(), b"", b"kinko/digest/" + purpose)
    return crypto.hmac_sha256(mac_key, value).hex()
