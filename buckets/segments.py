"""The at-rest object format: AES-256-GCM over fixed-size segments, streamed in and out.

    file    = header | segment_0 | segment_1 | … | segment_n        (n = last index; an empty object has one)
    header  = b"KNKO" | version (1) | segment size (4, BE) | nonce prefix (8)
    segment = AES-256-GCM(data key, nonce = prefix || index (4, BE), plaintext ≤ segment size,
                          aad = blob id (16) || index (8, BE) || final flag (1)) → ciphertext || tag (16)

Every blob has its own random data key and nonce prefix. The blob id and index in the associated data detect
segments swapped between objects or reordered; the final flag and the size recorded in the database detect
truncation and extension; the tag detects bit flips. A ranged read decrypts only the segments it touches.
No ORM here: the data key arrives unwrapped from buckets.sse.
"""

import os
import struct
import uuid
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from core import crypto

MAGIC = b"KNKO"
FORMAT_VERSION = 1
SEGMENT_BYTES = 64 * 1024
HEADER = struct.Struct(">4sBI8s")
TAG_BYTES = crypto.TAG_BYTES
BATCH_SEGMENTS = 16  # decrypted segments joined per yielded chunk (1 MiB)


class CorruptObject(Exception):
    """The stored bytes are not what was written: tampered, truncated, or not this object's."""


def _aad(blob_id: bytes, index: int, final: bool) -> bytes:
    return blob_id + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def segment_count(size: int) -> int:
    return max(1, -(-size // SEGMENT_BYTES))


def stored_size(size: int) -> int:
    return HEADER.size + size + segment_count(size) * TAG_BYTES


class SegmentEncryptor:
    """Feed plaintext chunks; get ciphertext bytes to write. `finish()` seals the last (final) segment."""

    def __init__(self, blob_id: str, data_key: bytes) -> None:
        self._blob_id = uuid.UUID(hex=blob_id).bytes
        self._aead = crypto.Aead(data_key)
        self._prefix = crypto.random_bytes(8)
        self._index = 0
        self._pending = bytearray()

    def header(self) -> bytes:
        return HEADER.pack(MAGIC, FORMAT_VERSION, SEGMENT_BYTES, self._prefix)

    def _seal(self, plaintext: bytes | memoryview, final: bool) -> bytes:
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._index), plaintext, _aad(self._blob_id, self._index, final)
        )
        self._index += 1
        return sealed

    def update(self, chunk: bytes) -> list[bytes]:
        """Ciphertext of every segment now known not to be the last one (the final segment can only be sealed
        once the stream has ended, so at least one byte is always kept back). Copies at most one segment."""
        view = memoryview(chunk)
        if not view:
            return []
        out = []
        if self._pending:
            take = min(len(view), SEGMENT_BYTES - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if not view:
                return out
            out.append(self._seal(bytes(self._pending), final=False))
        full = (len(view) - 1) // SEGMENT_BYTES
        out.extend(self._seal(view[n * SEGMENT_BYTES : (n + 1) * SEGMENT_BYTES], final=False) for n in range(full))
        self._pending = bytearray(view[full * SEGMENT_BYTES :])
        return out

    def finish(self) -> bytes:
        if self._index >= 2**32 - 1:
            raise ValueError("object too large for its nonce space")
        return self._seal(bytes(self._pending), final=True)


class BlobSource(Protocol):
    """Where `decrypt_range` reads a stored blob: a local file, or ranged reads of a backend object."""

    def head(self, length: int) -> tuple[bytes, int]:
        """The blob's first `length` bytes (fewer if it is shorter) and its whole stored size."""

    def span(self, offset: int, length: int) -> BinaryIO:
        """A stream of the stored bytes [offset, offset + length)."""

    def close(self) -> None:
        """Release the file or connection."""


class FileSource:
    """A `BlobSource` over a seekable file (a local blob file, or bytes in memory)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def head(self, length: int) -> tuple[bytes, int]:
        self._file.seek(0)
        head = self._file.read(length)
        return head, self._file.seek(0, os.SEEK_END)

    def span(self, offset: int, length: int) -> BinaryIO:
        self._file.seek(offset)
        return self._file

    def close(self) -> None:
        self._file.close()


def _read_exactly(stream: BinaryIO, length: int) -> bytes:
    """Up to `length` bytes, fewer only at the end of the stream (a socket may return less per read)."""
    data = stream.read(length)
    while len(data) < length:
        more = stream.read(length - len(data))
        if not more:
            break
        data += more
    return data


def decrypt_range(
    source: BlobSource, blob_id: str, data_key: bytes, size: int, first: int, length: int
) -> Iterator[bytes]:
    """Plaintext bytes [first, first + length) of a blob of `size` plaintext bytes, in chunks of up to 1 MiB.

    The source is read twice: its header (with the stored size), then one span covering exactly the segments the
    range touches."""
    header, total = source.head(HEADER.size)
    if len(header) != HEADER.size:
        raise CorruptObject("the object's header is missing")
    magic, version, segment_bytes, prefix = HEADER.unpack(header)
    if magic != MAGIC or version != FORMAT_VERSION or segment_bytes != SEGMENT_BYTES:
        raise CorruptObject("the object's header is not valid")
    if total != stored_size(size):
        raise CorruptObject("the object is not the size it was written at")
    aead = crypto.Aead(data_key)
    blob_uuid = uuid.UUID(hex=blob_id).bytes
    if size == 0:
        # An empty object still has its (empty, final) segment: its tag authenticates key, blob id and file.
        sealed = _read_exactly(source.span(HEADER.size, TAG_BYTES), TAG_BYTES)
        try:
            aead.decrypt(_nonce(prefix, 0), sealed, _aad(blob_uuid, 0, True))
        except crypto.DecryptError:
            raise CorruptObject("segment 0 failed authentication") from None
        return
    if length <= 0:
        return
    last_index = segment_count(size) - 1
    first_index, end_index = first // segment_bytes, (first + length - 1) // segment_bytes
    stride = segment_bytes + TAG_BYTES
    offset = HEADER.size + first_index * stride
    stream = source.span(offset, min(total, HEADER.size + (end_index + 1) * stride) - offset)
    index = first_index
    skip = first - first_index * segment_bytes
    remaining = length
    while index <= end_index:
        count = min(BATCH_SEGMENTS, end_index - index + 1)
        raw = _read_exactly(stream, count * stride)
        plain = []
        for n in range(count):
            i = index + n
            expected = (size - i * segment_bytes if i == last_index else segment_bytes) + TAG_BYTES
            sealed = raw[n * stride : n * stride + expected]
            if len(sealed) != expected:
                raise CorruptObject("the object is shorter than its recorded size")
            try:
                plain.append(aead.decrypt(_nonce(prefix, i), sealed, _aad(blob_uuid, i, i == last_index)))
            except crypto.DecryptError:
                raise CorruptObject(f"segment {i} failed authentication") from None
        chunk = b"".join(plain)
        if skip:
            chunk = chunk[skip:]
            skip = 0
        chunk = chunk[:remaining]
        remaining -= len(chunk)
        index += count
        yield chunk
