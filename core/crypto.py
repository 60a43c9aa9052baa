"""The only importer of `cryptography`: AES-256-GCM sealing, randomness, and the development CA's X.509.

Bytes in, bytes out: no ORM, no settings.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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


class Aead:
    """AES-256-GCM under one key, for many messages (the object segment format reuses one per blob)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, nonce: bytes, plaintext: bytes | memoryview, aad: bytes) -> bytes:
        return self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, nonce: bytes, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
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


# -- X.509 for the development CA (TLS on KINKO_HTTPS_PORT) ---------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kinko development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca(common_name: str, days: int) -> tuple[bytes, bytes]:
    """A self-signed CA: (certificate PEM, private key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _private_pem(key)


def make_leaf(
    ca_cert_pem: bytes, ca_key_pem: bytes, dns_names: list[str], ip_addresses: list[str], days: int
) -> tuple[bytes, bytes]:
    """A server certificate signed by the CA for the given names: (certificate PEM, private key PEM)."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName(name) for name in dns_names] + [
        x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _private_pem(key)


def certificate_names(cert_pem: bytes) -> set[str]:
    """The DNS names and IP addresses a certificate covers."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}


# -- key derivation and RSA key wrapping (KMS import) ------------------------------------------------------------


def hkdf_sha256(key: bytes, salt: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    mac = HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def rsa_generate_2048() -> tuple[bytes, bytes]:
    """(private key PEM, public key DER SubjectPublicKeyInfo) for wrapping imported material."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _private_pem(key), public_der


# The three wrapping algorithms Tencent's import API offers; OAEP-SHA1 is its choice, not ours.
RSA_PADDINGS = {
    "RSAES_PKCS1_V1_5": lambda: padding.PKCS1v15(),
    "RSAES_OAEP_SHA_1": lambda: padding.OAEP(
        mgf=padding.MGF1(hashes.SHA1()),  # noqa: S303
        algorithm=hashes.SHA1(),  # noqa: S303
        label=None,
    ),
    "RSAES_OAEP_SHA_256": lambda: padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    ),
}


def _pkcs1_v15_unwrap(key: rsa.RSAPrivateKey, wrapped: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 decryption that reports bad padding (RFC 8017 §7.2.2).

    OpenSSL's implicit rejection returns a random message instead of failing, which would import garbage as key
    material. Reporting padding errors makes a padding oracle, so callers must bound the attempts per key pair
    (the KMS voids an import token after a few failures).
    """
    size = (key.key_size + 7) // 8
    if len(wrapped) != size:
        raise DecryptError("the wrapped material has the wrong length")
    numbers = key.private_numbers()
    encoded = pow(int.from_bytes(wrapped, "big"), numbers.d, numbers.public_numbers.n).to_bytes(size, "big")
    separator = encoded.find(b"\x00", 2)
    if encoded[:2] != b"\x00\x02" or separator < 10:
        raise DecryptError("the material could not be unwrapped")
    return encoded[separator + 1 :]


def rsa_unwrap(private_pem: bytes, wrapped: bytes, algorithm: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if algorithm == "RSAES_PKCS1_V1_5":
        return _pkcs1_v15_unwrap(key, wrapped)
    try:
        return key.decrypt(wrapped, RSA_PADDINGS[algorithm]())
    except ValueError:
        raise DecryptError("the material could not be unwrapped") from None
