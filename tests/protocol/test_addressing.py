"""Addressing: the bucket is the first label of a virtual host on any domain, reached directly with an
explicit Host (IP/Port), or through the server as an HTTP proxy (absolute-form request target)."""

import requests

from tests.live import cos_client
from tests.protocol import wire


def test_virtual_host_on_any_domain_reaches_the_bucket(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"from the default domain")
    other = cos_client(kinko, Endpoint="cos.ap-guangzhou.example.internal")
    assert other.get_object(Bucket=bucket, Key="a.txt")["Body"].get_raw_stream().read() == b"from the default domain"


def test_virtual_host_on_any_domain_accepts_writes(kinko, cos, bucket):
    other = cos_client(kinko, Endpoint="cos.ap-guangzhou.example.internal")
    other.put_object(Bucket=bucket, Key="a.txt", Body=b"via example.internal")
    assert cos.get_object(Bucket=bucket, Key="a.txt")["Body"].get_raw_stream().read() == b"via example.internal"


def test_internal_tencentcos_domain_through_the_proxy_reaches_the_bucket(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    internal = cos_client(kinko, proxy=True, EnableOldDomain=False)
    assert internal.head_object(Bucket=bucket, Key="a.txt")["Content-Length"] == "1"


def test_explicit_host_on_the_server_address_reaches_the_bucket(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    response = wire.send(kinko, cos, "GET", bucket, "a.txt")
    assert (response.status_code, response.content) == (200, b"x")


def test_absolute_form_target_reaches_the_bucket_of_its_host(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="dir/a b.txt", Body=b"proxied")
    conn = wire.connection(kinko)
    try:
        host = wire.virtual_host(bucket)
        headers = {"Host": host}
        headers["Authorization"] = wire.authorization(cos, "GET", "dir/a b.txt", headers)
        conn.putrequest("GET", f"http://{host}/dir/a%20b.txt", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"proxied")
    finally:
        conn.close()


def test_host_with_a_port_verifies_a_signature_over_the_bare_host(kinko, cos, bucket):
    # The SDK signs urlparse(url).hostname, without the port, when it does not set Host itself.
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    host = wire.virtual_host(bucket)
    headers = {"Host": host}
    headers["Authorization"] = wire.authorization(cos, "GET", "a.txt", headers)
    response = requests.get(f"{kinko.url}/a.txt", headers={**headers, "Host": f"{host}:80"}, timeout=10)
    assert (response.status_code, response.content) == (200, b"x")


def test_bucket_in_the_host_is_case_insensitive(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    response = wire.send(kinko, cos, "GET", bucket, "a.txt", host=wire.virtual_host(bucket.upper()))
    assert (response.status_code, response.content) == (200, b"x")
