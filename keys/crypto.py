"""The only importer of `cryptography`: AES-256-GCM sealing and randomness. Bytes in, bytes out."""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptError(Exception):
    """Ciphertext, tag, nonce, key or associated data do not belong together."""


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)  # ciphertext || tag


def gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptError("authentication failed") from None


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt with a fresh nonce; return nonce || ciphertext || tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + gcm_encrypt(key, nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptError("sealed value is too short")
    return gcm_decrypt(key, sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
