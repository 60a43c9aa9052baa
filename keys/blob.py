"""The KMS ciphertext blob: self-describing, versioned, authenticated, opaque to clients.

    blob = base64( 0x01 | KeyId (16 bytes) | material version (4 bytes BE) | salt (16) | nonce (12) | ct || tag )

The blob key is HKDF-SHA256(material, salt, "kinko/kms/blob" || header), so every blob has its own AES-256-GCM key;
the header and the canonical EncryptionContext are the associated data. Decrypt needs no KeyId.
"""

import base64
import binascii
import json
import struct
import uuid
from dataclasses import dataclass

from core import crypto

FORMAT_VERSION = 1
HEADER = struct.Struct(">B16sI")
SALT_BYTES = 16
INFO = b"kinko/kms/blob"
MAX_CONTEXT_CHARS = 1024


class MalformedBlob(Exception):
    pass


class InvalidContext(ValueError):
    pass


@dataclass(frozen=True)
class BlobHeader:
    key_id: uuid.UUID
    version: int

    def pack(self) -> bytes:
        return HEADER.pack(FORMAT_VERSION, self.key_id.bytes, self.version)


def canonical_context(context: str | None) -> bytes:
    """The EncryptionContext as associated data: its JSON object with sorted keys, so key order does not matter."""
    if not context:
        return b""
    if len(context) > MAX_CONTEXT_CHARS:
        raise InvalidContext("EncryptionContext is longer than 1024 characters")
    try:
        value = json.loads(context)
    except ValueError:
        raise InvalidContext("EncryptionContext is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidContext("EncryptionContext is not a JSON object")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(header: BlobHeader, material: bytes, plaintext: bytes, context: bytes) -> str:
    head = header.pack()
    salt = crypto.random_bytes(SALT_BYTES)
    key = crypto.hkdf_sha256(material, salt, INFO + head)
    return base64.b64encode(head + salt + crypto.seal(key, plaintext, head + b"\x00" + context)).decode()


def read_header(blob: str) -> tuple[BlobHeader, bytes]:
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedBlob("not base64") from None
    if len(raw) < HEADER.size + SALT_BYTES + crypto.NONCE_BYTES + crypto.TAG_BYTES:
        raise MalformedBlob("too short")
    version, key_bytes, material_version = HEADER.unpack_from(raw)
    if version != FORMAT_VERSION:
        raise MalformedBlob("unknown format version")
    return BlobHeader(uuid.UUID(bytes=key_bytes), material_version), raw


def key_id_of(blob: str) -> uuid.UUID | None:
    """The KeyId a blob names in its header (None when it is not a blob): which CMK a caller must be allowed."""
    try:
        return read_header(blob)[0].key_id
    except MalformedBlob:
        return None


def open_blob(raw: bytes, material: bytes, context: bytes) -> bytes:
    """Decrypt a blob whose header was read with `read_header`; raises crypto.DecryptError when anything differs."""
    head = raw[: HEADER.size]
    salt = raw[HEADER.size : HEADER.size + SALT_BYTES]
    key = crypto.hkdf_sha256(material, salt, INFO + head)
    return crypto.unseal(key, raw[HEADER.size + SALT_BYTES :], head + b"\x00" + context)
