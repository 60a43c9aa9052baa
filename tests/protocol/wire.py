"""Raw COS requests for the cases the SDK cannot produce, signed by the SDK's own signer (`CosS3Auth`)."""

import http.client
import time
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from collections.abc import Callable
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import crcmod
import requests
from qcloud_cos import CosS3Client
from qcloud_cos.cos_auth import CosS3Auth

from tests.live import REGION, LiveKinko

crc64ecma_of = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def crc64ecma(data: bytes) -> str:
    """x-cos-hash-crc64ecma of `data`: CRC-64/ECMA-182 as a decimal string."""
    return str(crc64ecma_of(data))


def virtual_host(bucket: str, region: str = REGION, domain: str = "myqcloud.com") -> str:
    return f"{bucket}.cos.{region}.{domain}"


def key_path(key: str) -> str:
    """The request path of a key, encoded the way the SDK encodes it."""
    return "/" + quote(key, safe="/-_.~").replace("./", ".%2F")


def authorization(
    client: CosS3Client,
    method: str,
    key: str,
    headers: dict,
    params: dict | None = None,
    expired: int = 300,
    signed_at: float | None = None,
) -> str:
    """The Authorization value the SDK computes for a request with these headers (Host included).

    `signed_at` moves the SDK's clock: its window is [signed_at - 60, signed_at + expired].
    """
    request = requests.Request(method, "http://127.0.0.1/", headers=dict(headers))
    signer = CosS3Auth(client.get_conf(), key, params or {}, expired)
    if signed_at is None:
        return signer(request).headers["Authorization"]
    with mock.patch("qcloud_cos.cos_auth.time.time", return_value=signed_at):
        return signer(request).headers["Authorization"]


def send(
    server: LiveKinko,
    client: CosS3Client | None,
    method: str,
    bucket: str,
    key: str = "",
    *,
    params: dict | None = None,
    headers: dict | None = None,
    data: bytes | None = None,
    host: str | None = None,
    proxy: bool = False,
    expired: int = 300,
    signed_at: float | None = None,
) -> requests.Response:
    """One request with `requests`: IP/Port mode with an explicit Host, or absolute-form through the proxy.

    Signed by `client` over every header that will be sent; `client=None` sends no Authorization at all.
    """
    host = host or virtual_host(bucket)
    url = f"http://{host}{key_path(key)}" if proxy else f"{server.url}{key_path(key)}"
    request = requests.Request(method, url, params=params, data=data, headers={"Host": host, **(headers or {})})
    prepared = request.prepare()
    if client is not None:
        prepared.headers["Authorization"] = authorization(
            client, method, key, prepared.headers, params, expired, signed_at
        )
    with requests.Session() as session:
        return session.send(prepared, timeout=10, proxies={"http": server.url} if proxy else None)


def connection(server: LiveKinko, timeout: float = 5) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def start_request(
    conn: http.client.HTTPConnection, client: CosS3Client, method: str, bucket: str, key: str, headers: dict
) -> None:
    """Send a signed request line and headers (Host included); the caller sends the body, or not."""
    headers = {"Host": virtual_host(bucket), **headers}
    headers["Authorization"] = authorization(client, method, key, headers)
    conn.putrequest(method, key_path(key), skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()


def error_fields(body: bytes) -> dict[str, str | None]:
    """The children of a COS <Error> body."""
    root = ET.fromstring(body)  # noqa: S314 - the test server's own response
    assert root.tag == "Error", body
    return {child.tag: child.text for child in root}


def error_code(body: bytes) -> str | None:
    return error_fields(body)["Code"]


def files_under(directory: Path) -> set[Path]:
    return {path for path in directory.rglob("*") if path.is_file()} if directory.exists() else set()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll a server-side effect that happens asynchronously; True once it holds, False on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
