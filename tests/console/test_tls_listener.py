"""The HTTPS listener: the SDK over TLS with the development CA in REQUESTS_CA_BUNDLE, and the certificate's names."""

import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from qcloud_cos import CosClientError

from tests.live import cos_client
from tests.protocol.support import body_of


@pytest.fixture
def trusting_ca(kinko, monkeypatch):
    """requests trusts the development CA (and only it) for the duration of the test."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(kinko.ca_bundle))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def cos_https(kinko, trusting_ca):
    return cos_client(kinko, Scheme="https", IP="127.0.0.1", Port=kinko.https_port)


@pytest.fixture(scope="module")
def certificate(kinko) -> x509.Certificate:
    pem = ssl.get_server_certificate(("127.0.0.1", kinko.https_port))
    return x509.load_pem_x509_certificate(pem.encode())


def alternative_names(certificate: x509.Certificate) -> x509.SubjectAlternativeName:
    return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def handshake(kinko, server_hostname: str) -> dict:
    """A TLS handshake verified against the development CA for `server_hostname`: the validated peer certificate."""
    context = ssl.create_default_context(cafile=str(kinko.ca_bundle))
    with socket.create_connection(("127.0.0.1", kinko.https_port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname=server_hostname) as tls:
            return tls.getpeercert()


def test_sdk_over_https_round_trips_an_object(cos_https, bucket):
    cos_https.put_object(Bucket=bucket, Key="tls.txt", Body=b"sent over tls")
    assert body_of(cos_https.get_object(Bucket=bucket, Key="tls.txt")) == b"sent over tls"


def test_sdk_over_https_reads_what_was_written_over_http(cos, cos_https, bucket):
    cos.put_object(Bucket=bucket, Key="plain.txt", Body=b"written over http")
    assert body_of(cos_https.get_object(Bucket=bucket, Key="plain.txt")) == b"written over http"


def test_sdk_over_https_lists_buckets_at_the_ip_address(kinko, trusting_ca, bucket):
    client = cos_client(
        kinko, Scheme="https", IP="127.0.0.1", Port=kinko.https_port, ServiceDomain=f"127.0.0.1:{kinko.https_port}"
    )
    assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]]


def test_sdk_over_https_uploads_a_multipart_object(cos_https, bucket):
    upload_id = cos_https.create_multipart_upload(Bucket=bucket, Key="mp.bin")["UploadId"]
    etag = cos_https.upload_part(Bucket=bucket, Key="mp.bin", Body=b"one part", PartNumber=1, UploadId=upload_id)
    cos_https.complete_multipart_upload(
        Bucket=bucket, Key="mp.bin", UploadId=upload_id, MultipartUpload={"Part": [{"PartNumber": 1, **etag}]}
    )
    assert body_of(cos_https.get_object(Bucket=bucket, Key="mp.bin")) == b"one part"


def test_sdk_without_the_ca_fails_certificate_verification(kinko, monkeypatch, bucket):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    client = cos_client(kinko, Scheme="https", IP="127.0.0.1", Port=kinko.https_port)
    with pytest.raises(CosClientError) as err:
        client.put_object(Bucket=bucket, Key="untrusted.txt", Body=b"x")
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_certificate_names_the_loopback_address(certificate):
    addresses = alternative_names(certificate).get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("127.0.0.1") in addresses


@pytest.mark.parametrize("name", ["localhost", "*.cos.ap-guangzhou.myqcloud.com", "service.cos.myqcloud.com"])
def test_certificate_names_the_host(certificate, name):
    assert name in alternative_names(certificate).get_values_for_type(x509.DNSName)


def test_certificate_is_issued_by_the_development_ca(kinko, certificate):
    ca = x509.load_pem_x509_certificate(kinko.ca_bundle.read_bytes())
    assert certificate.issuer == ca.subject


@pytest.mark.parametrize(
    "server_hostname",
    ["127.0.0.1", "localhost", "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com", "service.cos.myqcloud.com"],
)
def test_tls_handshake_verifies_for_the_served_host_names(kinko, server_hostname):
    assert handshake(kinko, server_hostname)["subjectAltName"]


def test_tls_handshake_fails_for_a_host_name_the_certificate_does_not_cover(kinko):
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(kinko, "www.example.com")
