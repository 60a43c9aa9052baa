"""AES-256-GCM pinned by published vectors, plus seal/unseal round trips and tamper detection."""

import pytest

from core import crypto

# GCM spec (McGrew & Viega, "The Galois/Counter Mode of Operation"), 256-bit key test cases 15 and 16.
SPEC_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
SPEC_IV = bytes.fromhex("cafebabefacedbaddecaf888")
SPEC_PLAINTEXT = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
SPEC_CIPHERTEXT = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)
SPEC_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")

# NIST CAVP gcmEncryptExtIV256.rsp, [Keylen = 256, IVlen = 96, PTlen = 128, AADlen = 128, Taglen = 128] Count = 0.
CAVP_KEY = bytes.fromhex("92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b")
CAVP_IV = bytes.fromhex("ac93a1a6145299bde902f21a")
CAVP_PLAINTEXT = bytes.fromhex("2d71bcfa914e4ac045b2aa60955fad24")
CAVP_AAD = bytes.fromhex("1e0889016f67601c8ebea4943bc23ad6")
CAVP_CIPHERTEXT_AND_TAG = bytes.fromhex("8995ae2e6df3dbf96fac7b7137bae67feca5aa77d51d4a0a14d9c51e1da474ab")

KEY = bytes(range(32))


def flip_bit(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def test_gcm_encrypt_matches_spec_test_case_13_empty_plaintext():
    assert crypto.gcm_encrypt(bytes(32), bytes(12), b"").hex() == "530f8afbc74536b9a963b4f1c4cb738b"


def test_gcm_encrypt_matches_spec_test_case_14_one_zero_block():
    out = crypto.gcm_encrypt(bytes(32), bytes(12), bytes(16))
    assert out.hex() == "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"


def test_gcm_encrypt_matches_spec_test_case_15_four_blocks():
    out = crypto.gcm_encrypt(SPEC_KEY, SPEC_IV, SPEC_PLAINTEXT)
    assert out == SPEC_CIPHERTEXT + bytes.fromhex("b094dac5d93471bdec1a502270e3cc6c")


def test_gcm_encrypt_matches_spec_test_case_16_with_associated_data():
    out = crypto.gcm_encrypt(SPEC_KEY, SPEC_IV, SPEC_PLAINTEXT[:60], SPEC_AAD)
    assert out == SPEC_CIPHERTEXT[:60] + bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


def test_gcm_encrypt_matches_nist_cavp_vector_with_associated_data():
    assert crypto.gcm_encrypt(CAVP_KEY, CAVP_IV, CAVP_PLAINTEXT, CAVP_AAD) == CAVP_CIPHERTEXT_AND_TAG


def test_gcm_encrypt_matches_nist_cavp_vector_with_only_associated_data():
    # gcmEncryptExtIV256.rsp, [PTlen = 0, AADlen = 128] Count = 0: the output is the tag alone.
    key = bytes.fromhex("78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223")
    out = crypto.gcm_encrypt(
        key, bytes.fromhex("d79cf22d504cc793c3fb6c8a"), b"", bytes.fromhex("b96baa8c1c75a671bfb2d08d06be5f36")
    )
    assert out.hex() == "3e5d486aa2e30b22e040b85723a06e76"


def test_gcm_decrypt_recovers_nist_cavp_plaintext():
    assert crypto.gcm_decrypt(CAVP_KEY, CAVP_IV, CAVP_CIPHERTEXT_AND_TAG, CAVP_AAD) == CAVP_PLAINTEXT


def test_gcm_decrypt_of_cavp_vector_without_its_associated_data_fails():
    with pytest.raises(crypto.DecryptError):
        crypto.gcm_decrypt(CAVP_KEY, CAVP_IV, CAVP_CIPHERTEXT_AND_TAG)


def test_unseal_returns_what_seal_sealed():
    assert crypto.unseal(KEY, crypto.seal(KEY, b"attack at dawn", b"purpose"), b"purpose") == b"attack at dawn"


def test_unseal_returns_an_empty_plaintext_sealed_without_associated_data():
    assert crypto.unseal(KEY, crypto.seal(KEY, b"")) == b""


def test_seal_output_is_nonce_then_ciphertext_then_tag():
    sealed = crypto.seal(KEY, b"0123456789", b"aad")
    nonce = sealed[: crypto.NONCE_BYTES]
    assert len(sealed) == crypto.NONCE_BYTES + 10 + crypto.TAG_BYTES
    assert sealed[crypto.NONCE_BYTES :] == crypto.gcm_encrypt(KEY, nonce, b"0123456789", b"aad")


def test_seal_uses_a_fresh_nonce_each_time():
    first, second = crypto.seal(KEY, b"same"), crypto.seal(KEY, b"same")
    assert first[: crypto.NONCE_BYTES] != second[: crypto.NONCE_BYTES]


@pytest.mark.parametrize(
    "index",
    [0, crypto.NONCE_BYTES - 1],
    ids=["first-nonce-byte", "last-nonce-byte"],
)
def test_unseal_with_one_nonce_bit_flipped_fails(index):
    sealed = crypto.seal(KEY, b"secret", b"aad")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, flip_bit(sealed, index), b"aad")


def test_unseal_with_one_ciphertext_bit_flipped_fails():
    sealed = crypto.seal(KEY, b"secret", b"aad")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, flip_bit(sealed, crypto.NONCE_BYTES + 2), b"aad")


def test_unseal_with_one_tag_bit_flipped_fails():
    sealed = crypto.seal(KEY, b"secret", b"aad")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, flip_bit(sealed, len(sealed) - 1), b"aad")


def test_unseal_with_other_associated_data_fails():
    sealed = crypto.seal(KEY, b"secret", b"apikey:AKIDone")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, sealed, b"apikey:AKIDtwo")


def test_unseal_without_the_associated_data_it_was_sealed_with_fails():
    sealed = crypto.seal(KEY, b"secret", b"aad")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, sealed)


def test_unseal_with_another_key_fails():
    sealed = crypto.seal(KEY, b"secret")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(flip_bit(KEY, 0), sealed)


def test_unseal_of_a_value_missing_its_last_byte_fails():
    sealed = crypto.seal(KEY, b"secret")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, sealed[:-1])


def test_unseal_of_a_value_shorter_than_nonce_and_tag_fails():
    sealed = crypto.seal(KEY, b"")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, sealed[: crypto.NONCE_BYTES + crypto.TAG_BYTES - 1])


def test_unseal_of_an_empty_value_fails():
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(KEY, b"")


def test_gcm_decrypt_with_one_tag_bit_flipped_fails():
    out = crypto.gcm_encrypt(bytes(32), bytes(12), bytes(16))
    with pytest.raises(crypto.DecryptError):
        crypto.gcm_decrypt(bytes(32), bytes(12), flip_bit(out, 16))


def test_random_bytes_returns_the_requested_length():
    assert len(crypto.random_bytes(crypto.KEY_BYTES)) == crypto.KEY_BYTES
