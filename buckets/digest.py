"""Streaming content digests: MD5 (the ETag of plain objects) and CRC-64/ECMA-182 (x-cos-hash-crc64ecma)."""

import functools
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


# CRC-64/XZ is zlib-style (reflected, init and xorout all ones), so zlib's crc32_combine carries over: the CRC of
# A+B is the CRC of A advanced through len(B) zero bytes (a linear map over GF(2)), xor the CRC of B.
_POLY_REFLECTED = 0xC96C5795D7870F42


def _times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _compose(a: list[int], b: list[int]) -> list[int]:
    """The matrix of applying b, then a."""
    return [_times(a, column) for column in b]


@functools.lru_cache(maxsize=64)
def _zeros_operator(length: int) -> tuple[int, ...]:
    """The GF(2) matrix that advances a CRC register through `length` zero bytes."""
    one_bit = [_POLY_REFLECTED] + [1 << n for n in range(63)]
    power = one_bit
    for _ in range(3):  # 1 → 2 → 4 → 8 zero bits: one zero byte
        power = _compose(power, power)
    result: list[int] | None = None
    while length:
        if length & 1:
            result = power if result is None else _compose(power, result)
        length >>= 1
        if length:
            power = _compose(power, power)
    return tuple(result)


def crc64_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """CRC-64 of A+B from the CRCs of A and B and the length of B."""
    if length_b == 0:
        return crc_a
    return _times(list(_zeros_operator(length_b)), crc_a) ^ crc_b
