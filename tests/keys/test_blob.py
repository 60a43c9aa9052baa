"""The KMS ciphertext blob: round trip, self-description, tamper detection and EncryptionContext binding."""

import base64
import uuid

import pytest

from core import crypto
from keys import blob

KEY_ID = uuid.UUID("23e80852-1e38-11e9-b129-5cb9019b4b01")
MATERIAL = bytes(range(32))
PLAINTEXT = b"the data key travels inside"
CONTEXT = blob.canonical_context('{"bucket": "examplebucket-1250000000", "object": "a/b.txt"}')

HEADER_END = blob.HEADER.size  # format byte, KeyId, material version
SALT_END = HEADER_END + blob.SALT_BYTES
NONCE_END = SALT_END + crypto.NONCE_BYTES
REGIONS = {
    "format byte": (0, 1),
    "key id": (1, 17),
    "material version": (17, HEADER_END),
    "salt": (HEADER_END, SALT_END),
    "nonce": (SALT_END, NONCE_END),
    "ciphertext": (NONCE_END, NONCE_END + len(PLAINTEXT)),
    "tag": (NONCE_END + len(PLAINTEXT), NONCE_END + len(PLAINTEXT) + crypto.TAG_BYTES),
}


def sealed(context: bytes = CONTEXT, version: int = 3, plaintext: bytes = PLAINTEXT) -> str:
    return blob.seal(blob.BlobHeader(KEY_ID, version), MATERIAL, plaintext, context)


def opened(text: str, context: bytes = CONTEXT, material: bytes = MATERIAL) -> bytes:
    _, raw = blob.read_header(text)
    return blob.open_blob(raw, material, context)


def flip_byte(text: str, index: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index] ^= 0xFF
    return base64.b64encode(bytes(raw)).decode()


def test_open_blob_returns_what_seal_sealed():
    assert opened(sealed()) == PLAINTEXT


def test_a_blob_without_context_opens_without_context():
    assert opened(sealed(context=b""), context=b"") == PLAINTEXT


def test_read_header_names_the_key_and_material_version():
    header, _ = blob.read_header(sealed(version=7))
    assert header == blob.BlobHeader(KEY_ID, 7)


def test_the_blob_is_exactly_header_salt_nonce_ciphertext_and_tag():
    assert len(base64.b64decode(sealed())) == REGIONS["tag"][1]


def test_sealing_the_same_plaintext_twice_gives_different_blobs():
    assert sealed() != sealed()


def test_the_blob_does_not_contain_the_plaintext():
    raw = base64.b64decode(sealed())
    assert PLAINTEXT not in raw
    assert PLAINTEXT not in sealed().encode()


@pytest.mark.parametrize("region", REGIONS)
def test_changing_any_byte_of_a_blob_region_is_detected(region):
    start, end = REGIONS[region]
    original = sealed()
    undetected = []
    for index in range(start, end):
        try:
            opened(flip_byte(original, index))
        except (crypto.DecryptError, blob.MalformedBlob):
            continue
        undetected.append(index)
    assert undetected == []


def test_a_truncated_blob_is_malformed():
    raw = base64.b64decode(sealed())
    with pytest.raises(blob.MalformedBlob):
        blob.read_header(base64.b64encode(raw[: REGIONS["nonce"][1] + crypto.TAG_BYTES - 1]).decode())


def test_a_blob_with_its_tag_cut_off_does_not_open():
    raw = base64.b64decode(sealed())
    with pytest.raises((crypto.DecryptError, blob.MalformedBlob)):
        opened(base64.b64encode(raw[: -crypto.TAG_BYTES]).decode())


def test_text_that_is_not_base64_is_malformed():
    with pytest.raises(blob.MalformedBlob):
        blob.read_header("not*base64!")


def test_an_unknown_format_version_is_malformed():
    raw = bytearray(base64.b64decode(sealed()))
    raw[0] = blob.FORMAT_VERSION + 1
    with pytest.raises(blob.MalformedBlob):
        blob.read_header(base64.b64encode(bytes(raw)).decode())


def test_other_key_material_does_not_open_the_blob():
    with pytest.raises(crypto.DecryptError):
        opened(sealed(), material=bytes(32))


def test_a_different_context_does_not_open_the_blob():
    other = blob.canonical_context('{"bucket": "examplebucket-1250000000", "object": "a/c.txt"}')
    with pytest.raises(crypto.DecryptError):
        opened(sealed(), context=other)


def test_a_missing_context_does_not_open_a_blob_made_with_one():
    with pytest.raises(crypto.DecryptError):
        opened(sealed(), context=b"")


def test_a_context_does_not_open_a_blob_made_without_one():
    with pytest.raises(crypto.DecryptError):
        opened(sealed(context=b""))


def test_context_key_order_does_not_matter():
    assert blob.canonical_context('{"a": "1", "b": "2"}') == blob.canonical_context('{"b":"2","a":"1"}')


def test_a_blob_opens_with_the_context_keys_in_another_order():
    made = sealed(context=blob.canonical_context('{"a": "1", "b": "2"}'))
    assert opened(made, context=blob.canonical_context('{"b":"2", "a":"1"}')) == PLAINTEXT


def test_canonical_context_is_sorted_compact_json():
    assert blob.canonical_context('{"b": "2", "a": "\\u00fc"}') == '{"a":"ü","b":"2"}'.encode()


@pytest.mark.parametrize("empty", [None, ""])
def test_no_context_is_no_associated_data(empty):
    assert blob.canonical_context(empty) == b""


def test_a_context_of_exactly_1024_characters_is_accepted():
    context = '{"k": "' + "v" * (1024 - len('{"k": ""}')) + '"}'
    assert len(context) == 1024
    assert blob.canonical_context(context) == b'{"k":"' + b"v" * (1024 - len('{"k": ""}')) + b'"}'


def test_a_context_longer_than_1024_characters_is_refused():
    context = '{"k": "' + "v" * (1025 - len('{"k": ""}')) + '"}'
    assert len(context) == 1025
    with pytest.raises(blob.InvalidContext):
        blob.canonical_context(context)


@pytest.mark.parametrize("context", ['["a", "b"]', '"a"', "42", "null", "{not json", "a=b"])
def test_a_context_that_is_not_a_json_object_is_refused(context):
    with pytest.raises(blob.InvalidContext):
        blob.canonical_context(context)
