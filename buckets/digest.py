"""Streaming content digests: MD5 (the ETag of plain objects) and CRC-64/ECMA-182 (x-cos-hash-crc64ecma)."""

import hashlib

import fastcrc


class ContentDigest:
    """Feed every chunk of a body; read size, MD5 and CRC-64 at the end."""

    def __init__(self, md5: bool = True) -> None:
        self._md5 = hashlib.md5() if md5 else None
        self._crc: int | None = None
        self.size_bytes = 0

    def update(self, chunk: bytes) -> None:
        if self._md5 is not None:
            self._md5.update(chunk)
        self._crc = fastcrc.crc64.xz(chunk) if self._crc is None else fastcrc.crc64.xz(chunk, self._crc)
        self.size_bytes += len(chunk)

    def md5(self) -> bytes:
        assert self._md5 is not None, "MD5 was not requested"
        return self._md5.digest()

    @property
    def crc64(self) -> int:
        return 0 if self._crc is None else self._crc


def crc64(data: bytes) -> int:
    return fastcrc.crc64.xz(data)
