"""The at-rest format of buckets/segments.py, pure: round trips, ranged reads, sizes, and every tampering it must
detect (a flipped bit, truncation, extension, moved segments, another blob's id, the wrong key)."""

import io
import os
import uuid
from dataclasses import dataclass

import pytest

from buckets import segments
from core import crypto

SEG = segments.SEGMENT_BYTES
HEADER = segments.HEADER.size
TAG = segments.TAG_BYTES
STRIDE = SEG + TAG
MiB = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    blob_id: str
    key: bytes
    stored: bytes
    size: int


def encrypt(data: bytes, chunk: int = MiB, key: bytes | None = None, blob_id: str | None = None) -> Blob:
    """Stream `data` through a SegmentEncryptor in `chunk`-sized update() calls, as storage does."""
    blob_id = blob_id or uuid.uuid4().hex
    key = key or os.urandom(32)
    encryptor = segments.SegmentEncryptor(blob_id, key)
    out = [encryptor.header()]
    for start in range(0, len(data), chunk):
        out.extend(encryptor.update(data[start : start + chunk]))
    out.append(encryptor.finish())
    return Blob(blob_id, key, b"".join(out), len(data))


def decrypt(
    blob: Blob,
    stored: bytes | None = None,
    first: int = 0,
    length: int | None = None,
    *,
    blob_id: str | None = None,
    key: bytes | None = None,
) -> bytes:
    """Plaintext [first, first + length) of `stored` (default: the blob as written), read with the recorded size."""
    stored = blob.stored if stored is None else stored
    length = blob.size - first if length is None else length
    chunks = segments.decrypt_range(
        segments.FileSource(io.BytesIO(stored)), blob_id or blob.blob_id, key or blob.key, blob.size, first, length
    )
    return b"".join(chunks)


def segment_at(index: int) -> slice:
    return slice(HEADER + index * STRIDE, HEADER + (index + 1) * STRIDE)


def flip(stored: bytes, position: int) -> bytes:
    return stored[:position] + bytes([stored[position] ^ 0x01]) + stored[position + 1 :]


def swap_segments(stored: bytes, a: int, b: int) -> bytes:
    out = bytearray(stored)
    out[segment_at(a)], out[segment_at(b)] = stored[segment_at(b)], stored[segment_at(a)]
    return bytes(out)


@pytest.fixture(scope="module")
def three_and_a_bit() -> bytes:
    """Plaintext of three full segments and a short fourth."""
    return os.urandom(3 * SEG + 100)


@pytest.fixture(scope="module")
def blob(three_and_a_bit) -> Blob:
    return encrypt(three_and_a_bit)


# -- round trips -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
@pytest.mark.parametrize("chunk", [1, 1000, 65536, MiB])
def test_decrypting_returns_what_was_encrypted(size, chunk):
    data = os.urandom(size)
    assert decrypt(encrypt(data, chunk)) == data


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
@pytest.mark.parametrize("chunk", [1, 1000, 65536])
def test_the_stored_bytes_do_not_depend_on_the_chunking(monkeypatch, size, chunk):
    monkeypatch.setattr(segments.crypto, "random_bytes", lambda n: b"\x07" * n)  # the same nonce prefix twice
    data, key, blob_id = os.urandom(size), os.urandom(32), uuid.uuid4().hex
    assert encrypt(data, chunk, key, blob_id).stored == encrypt(data, MiB, key, blob_id).stored


@pytest.mark.parametrize("size", [65535, 65536, 65537, 3 * 65536])
def test_the_stored_bytes_never_contain_the_plaintext(size):
    data = os.urandom(size)
    stored = encrypt(data).stored
    assert not any(data[n : n + 32] in stored for n in range(0, size - 32, 4096))


def test_two_encryptions_of_the_same_plaintext_under_the_same_key_differ():
    data, key, blob_id = os.urandom(1000), os.urandom(32), uuid.uuid4().hex
    assert encrypt(data, key=key, blob_id=blob_id).stored != encrypt(data, key=key, blob_id=blob_id).stored


def test_the_header_starts_with_the_magic_and_names_the_segment_size():
    stored = encrypt(b"x").stored
    magic, version, segment_bytes, _ = segments.HEADER.unpack(stored[:HEADER])
    assert (magic, version, segment_bytes) == (b"KNKO", 1, 65536)


# -- stored_size ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 17 + 16),
        (1, 17 + 1 + 16),
        (65535, 17 + 65535 + 16),
        (65536, 17 + 65536 + 16),
        (65537, 17 + 65537 + 2 * 16),
        (3 * 65536, 17 + 3 * 65536 + 3 * 16),
    ],
)
def test_stored_size_is_header_plus_plaintext_plus_one_tag_per_segment(size, expected):
    assert segments.stored_size(size) == expected


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
def test_stored_size_is_the_length_of_what_the_encryptor_writes(size):
    assert len(encrypt(os.urandom(size)).stored) == segments.stored_size(size)


# -- ranged reads ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "length"),
    [
        (0, 1),
        (0, SEG),
        (SEG - 1, 1),
        (SEG - 1, 2),
        (SEG, 1),
        (SEG, SEG),
        (2 * SEG - 1, 2),
        (SEG - 1, 2 * SEG + 2),
        (3 * SEG, 100),
        (3 * SEG - 1, 101),
        (3 * SEG + 99, 1),
        (0, 3 * SEG + 100),
    ],
)
def test_a_ranged_read_returns_exactly_the_range(blob, three_and_a_bit, first, length):
    assert decrypt(blob, first=first, length=length) == three_and_a_bit[first : first + length]


def test_a_ranged_read_of_nothing_is_empty(blob):
    assert decrypt(blob, first=SEG, length=0) == b""


def test_a_ranged_read_of_a_later_segment_does_not_need_the_earlier_ones(blob, three_and_a_bit):
    damaged = flip(blob.stored, segment_at(0).start + 5)
    assert decrypt(blob, damaged, first=2 * SEG, length=SEG) == three_and_a_bit[2 * SEG : 3 * SEG]


def test_a_long_read_comes_in_chunks_of_at_most_one_mebibyte():
    data = os.urandom(2 * MiB + 10)
    sealed = encrypt(data)
    chunks = list(
        segments.decrypt_range(
            segments.FileSource(io.BytesIO(sealed.stored)), sealed.blob_id, sealed.key, len(data), 0, len(data)
        )
    )
    assert max(map(len, chunks)) == MiB


# -- tampering ------------------------------------------------------------------------------------------------


def assert_corrupt(blob: Blob, stored: bytes, **options) -> None:
    with pytest.raises(segments.CorruptObject):
        decrypt(blob, stored, **options)


@pytest.mark.parametrize(
    "position", [0, 4, 5, 8, 9, 16], ids=["magic", "version", "size-high", "size-low", "nonce-first", "nonce-last"]
)
def test_a_flipped_header_byte_is_corrupt(blob, position):
    assert_corrupt(blob, flip(blob.stored, position))


def test_a_missing_header_is_corrupt(blob):
    assert_corrupt(blob, blob.stored[: HEADER - 1])


@pytest.mark.parametrize("index", [0, 1, 3])
def test_a_flipped_byte_in_a_segment_is_corrupt(blob, index):
    assert_corrupt(blob, flip(blob.stored, segment_at(index).start + 7))


@pytest.mark.parametrize("index", [0, 1])
def test_a_flipped_byte_in_a_segment_tag_is_corrupt(blob, index):
    assert_corrupt(blob, flip(blob.stored, segment_at(index).stop - 1))


def test_a_flipped_byte_in_the_last_tag_is_corrupt(blob):
    assert_corrupt(blob, flip(blob.stored, len(blob.stored) - 1))


def test_a_flipped_byte_is_corrupt_for_a_ranged_read_of_its_segment(blob):
    assert_corrupt(blob, flip(blob.stored, segment_at(1).start + 7), first=SEG + 10, length=10)


def test_truncation_at_a_segment_boundary_is_corrupt(blob):
    assert_corrupt(blob, blob.stored[: segment_at(3).start])


def test_truncation_in_the_middle_of_a_segment_is_corrupt(blob):
    assert_corrupt(blob, blob.stored[: segment_at(1).start + 1000])


def test_truncation_of_the_last_byte_is_corrupt(blob):
    assert_corrupt(blob, blob.stored[:-1])


def test_truncation_to_the_header_alone_is_corrupt(blob):
    assert_corrupt(blob, blob.stored[:HEADER])


def test_an_appended_segment_is_corrupt(blob):
    assert_corrupt(blob, blob.stored + blob.stored[segment_at(1)])


def test_appended_bytes_are_corrupt(blob):
    assert_corrupt(blob, blob.stored + b"\x00" * TAG)


def test_a_segment_sealed_as_final_then_extended_is_corrupt():
    """An object of exactly one segment whose final segment is followed by a copy of itself, read as two."""
    data = os.urandom(SEG)
    sealed = encrypt(data)
    longer = Blob(sealed.blob_id, sealed.key, sealed.stored + sealed.stored[segment_at(0)], 2 * SEG)
    assert_corrupt(longer, longer.stored)


def test_two_swapped_segments_are_corrupt(blob):
    assert_corrupt(blob, swap_segments(blob.stored, 0, 1))


def test_two_swapped_segments_are_corrupt_for_a_ranged_read(blob):
    assert_corrupt(blob, swap_segments(blob.stored, 1, 2), first=SEG, length=10)


def test_reordered_segments_are_corrupt(blob):
    stored = blob.stored
    rotated = stored[:HEADER] + stored[segment_at(1)] + stored[segment_at(2)] + stored[segment_at(0)]
    assert_corrupt(blob, rotated + stored[segment_at(3).start :])


def test_a_segment_from_another_blob_under_the_same_key_is_corrupt(blob):
    other = encrypt(os.urandom(3 * SEG + 100), key=blob.key)
    transplanted = blob.stored[: segment_at(1).start] + other.stored[segment_at(1)] + blob.stored[segment_at(2).start :]
    assert_corrupt(blob, transplanted)


def test_another_blobs_id_is_corrupt(blob):
    assert_corrupt(blob, blob.stored, blob_id=uuid.uuid4().hex)


def test_the_wrong_key_is_corrupt(blob):
    assert_corrupt(blob, blob.stored, key=os.urandom(32))


def test_an_empty_object_under_the_wrong_key_is_corrupt():
    sealed = encrypt(b"")
    assert_corrupt(sealed, sealed.stored, key=os.urandom(32))


def test_an_empty_object_missing_its_segment_is_corrupt():
    sealed = encrypt(b"")
    assert_corrupt(sealed, sealed.stored[:HEADER])


# -- the AEAD under the format: GCM spec test cases 14-16 -----------------------------------------------------

K15 = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
IV15 = bytes.fromhex("cafebabefacedbaddecaf888")
P15 = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
C15 = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)
A16 = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")


def test_aead_matches_gcm_test_case_14():
    out = crypto.Aead(bytes(32)).encrypt(bytes(12), bytes(16), b"")
    assert out.hex() == "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"


def test_aead_matches_gcm_test_case_15():
    out = crypto.Aead(K15).encrypt(IV15, P15, b"")
    assert out == C15 + bytes.fromhex("b094dac5d93471bdec1a502270e3cc6c")


def test_aead_matches_gcm_test_case_16():
    out = crypto.Aead(K15).encrypt(IV15, P15[:60], A16)
    assert out == C15[:60] + bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


def test_aead_decrypts_gcm_test_case_16():
    sealed = C15[:60] + bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")
    assert crypto.Aead(K15).decrypt(IV15, sealed, A16) == P15[:60]


def test_aead_refuses_gcm_test_case_16_with_other_associated_data():
    sealed = C15[:60] + bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")
    with pytest.raises(crypto.DecryptError):
        crypto.Aead(K15).decrypt(IV15, sealed, A16[:-1] + b"\xd3")
