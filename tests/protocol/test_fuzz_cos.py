"""Property-based test of the COS XML edge (issue 12): generated requests (any method, bucket names valid and not,
keys with any code point, known, unknown, duplicated and case-variant parameters, x-cos-* headers with junk, XML
bodies whole, truncated and deeply nested), mostly signed by the SDK's own signer (`CosS3Auth`) so they get past
the signature check, some anonymous, badly signed or signed in the URL. Whatever comes in, the answer is never a
5xx other than the documented 501 NotImplemented, an error is a COS <Error> document, and the server logs no
traceback. Cases are derandomized (tests/fuzzing.py)."""

import base64
import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
import requests
from hypothesis import strategies as st

from buckets.api import operations
from buckets.api.urls import BUCKET_HOST, SERVICE_HOST
from tests.console.jsonapi_support import Api, ok
from tests.fuzzing import fuzz_settings, send_cases
from tests.live import APPID, REGION, cos_client
from tests.protocol import wire
from tests.protocol.support import empty_and_delete, new_bucket

SETTINGS = fuzz_settings(250)
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "PROPFIND"]
CUSTOMER_KEY = b"k" * 32
CUSTOMER = {
    "x-cos-server-side-encryption-customer-algorithm": "AES256",
    "x-cos-server-side-encryption-customer-key": base64.b64encode(CUSTOMER_KEY).decode(),
    "x-cos-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(CUSTOMER_KEY).digest()).decode(),
}
OBJECTS = ["k", "dir/a.txt", "ssec.txt", "kms.txt"]
XML_TAGS = [
    "Delete",
    "Object",
    "Key",
    "Quiet",
    "VersionId",
    "CompleteMultipartUpload",
    "Part",
    "PartNumber",
    "ETag",
    "AccessControlPolicy",
    "Owner",
    "ID",
    "DisplayName",
    "AccessControlList",
    "Grant",
    "Grantee",
    "URI",
    "Permission",
    "ServerSideEncryptionConfiguration",
    "Rule",
    "ApplyServerSideEncryptionByDefault",
    "SSEAlgorithm",
    "KMSMasterKeyID",
    "CreateBucketConfiguration",
    "BucketAZConfig",
    "Tagging",
    "TagSet",
    "Tag",
    "x",
]
ODD_TEXT = ["", "\x00", "\r\n", "\U0010ffff", "a\x00b", "..", ".", "/", "//", "%", "%2F", "?", "#", " ", "\t", "ü"]


# -- what the fuzzer works on --------------------------------------------------------------------------------


def bucket_set(cos) -> set[str]:
    listing = cos.list_buckets()["Buckets"] or {}
    return {entry["Name"] for entry in listing.get("Bucket", [])}


@pytest.fixture(scope="module")
def world(kinko, cos):
    """A bucket of the fuzzer's own with a plain, an SSE-COS, an SSE-C and an SSE-KMS object and an open multipart
    upload; buckets the run happens to create are deleted afterwards, as is this one."""
    api = Api.root(kinko)
    for path in ("/kms/activate/", "/cam/cos-service-role/"):
        ok(api.post(path))
    before = bucket_set(cos)
    name = new_bucket(cos)
    cos.put_object(Bucket=name, Key="k", Body=b"plain")
    cos.put_object(Bucket=name, Key="dir/a.txt", Body=b"cos", ServerSideEncryption="AES256")
    cos.put_object(
        Bucket=name,
        Key="ssec.txt",
        Body=b"customer",
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=CUSTOMER["x-cos-server-side-encryption-customer-key"],
        SSECustomerKeyMD5=CUSTOMER["x-cos-server-side-encryption-customer-key-MD5"],
    )
    cos.put_object(Bucket=name, Key="kms.txt", Body=b"kms", ServerSideEncryption="cos/kms")
    upload_id = cos.create_multipart_upload(Bucket=name, Key="mp.bin")["UploadId"]
    cos.upload_part(Bucket=name, Key="mp.bin", PartNumber=1, UploadId=upload_id, Body=b"part")
    yield {"bucket": name, "upload_id": upload_id}
    for created in sorted(bucket_set(cos) - before):
        empty_and_delete(cos, created)


@pytest.fixture(scope="module")
def wrong_signer(kinko):
    """The SDK signing with a SecretKey the server does not know."""
    return cos_client(kinko, secret_key="not-the-secret-key")


# -- strategies ----------------------------------------------------------------------------------------------

text = st.text(max_size=30)  # any code point but surrogates: NUL, CR, LF and U+10FFFF included
odd_text = st.one_of(text, st.sampled_from(ODD_TEXT), st.lists(st.sampled_from(ODD_TEXT), max_size=4).map("".join))
# What requests lets into a header: latin-1 without C0/C1 controls, NBSP or leading whitespace.
header_text = st.text(
    st.characters(codec="latin-1", exclude_categories=["Cc"], exclude_characters="\xa0"), max_size=40
).map(str.lstrip)


def bucket_names(world) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(world["bucket"]),
        st.just(world["bucket"]),
        st.sampled_from(
            [
                f"nofuzz0000-{APPID}",  # valid, missing
                f"fuzz-{APPID}",  # valid: a PUT creates it
                f"UPPER-{APPID}",
                f"-dash-{APPID}",
                f"{'x' * 60}-{APPID}",
                "noappid",
                f"a_b-{APPID}",
                "x-1",
            ]
        ),
        st.text(
            st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="./:"), min_size=1, max_size=20
        ),
    )


def keys(world) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.sampled_from(OBJECTS + ["mp.bin", "new.txt"]),
        odd_text,
        st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(["dir", "", "..", "."]), odd_text),
        st.integers(840, 900).map(lambda n: "k" * n),  # around the 850-byte key limit
    )


def query_names() -> st.SearchStrategy[str]:
    known = sorted(operations.SELECTORS | operations.NOT_IMPLEMENTED | operations.OPTIONS)
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(known).flatmap(lambda n: st.sampled_from([n.upper(), n.lower(), n.capitalize(), n.swapcase()])),
        st.sampled_from(
            [
                "q-sign-algorithm",
                "q-ak",
                "q-sign-time",
                "q-key-time",
                "q-header-list",
                "q-url-param-list",
                "q-signature",
                "imageMogr2/thumbnail/!50p",
                "x-cos-server-side-encryption",
                "versionid",
                "id",
            ]
        ),
        text,
    )


def query_values(world) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),  # a bare flag: ?acl
        st.just(""),
        odd_text,
        st.integers(-(10**20), 10**20).map(str),
        st.sampled_from(
            [
                world["upload_id"],
                "1",
                "0",
                "10000",
                "10001",
                "-1",
                "1.5",
                "1e3",
                "\r\nX-Evil: 1",
                "bytes=0-1",
                "text/html\r\nSet-Cookie: a=b",
                "url",
                "private",
                "sha1",
            ]
        ),
    )


def header_values(world) -> st.SearchStrategy[str]:
    host = wire.virtual_host(world["bucket"])
    return st.one_of(
        header_text,
        st.sampled_from(
            [
                "",
                "AES256",
                "cos/kms",
                "SM4",
                "private",
                "public-read",
                "public-read-write",
                "default",
                'id="100000000001"',
                'uri="http://cam.qcloud.com/groups/global/AllUsers"',
                "Copy",
                "Replaced",
                "bytes=0-1",
                "bytes=5-1",
                "bytes=-0",
                "bytes=0-",
                "bytes=99999999999999999999-",
                "items=0-1",
                "bytes=0-1,3-4",
                "Sun, 06 Nov 1994 08:49:37 GMT",
                "not a date",
                "true",
                "false",
                "STANDARD",
                "ARCHIVE",
                "bogus",
                "1",
                "-1",
                "99999999999999999999",
                "a=b&c=d",
                "==",
                "AAAA",
                CUSTOMER["x-cos-server-side-encryption-customer-key"],
                CUSTOMER["x-cos-server-side-encryption-customer-key-MD5"],
                base64.b64encode(b'{"a": "b"}').decode(),
                base64.b64encode(b"[1, 2]").decode(),
                f"{host}/k",
                f"{host}/dir/a.txt",
                f"{host}/ssec.txt",
                f"{host}/kms.txt",
                f"{host}/missing",
                f"{host}/k?versionId=x",
                f"{host}/%ZZ",
                f"{host}/%00",
                f"{host}/",
                f"{host}",
                "/",
                "nohost/k",
                f"{world['bucket']}.cos.{REGION}.myqcloud.com/k",
                f"other-{APPID}.cos.{REGION}.myqcloud.com/k",
            ]
        ),
    )


HEADER_NAMES = [
    "x-cos-copy-source",
    "x-cos-copy-source-range",
    "x-cos-copy-source-If-Match",
    "x-cos-copy-source-If-None-Match",
    "x-cos-copy-source-If-Modified-Since",
    "x-cos-copy-source-If-Unmodified-Since",
    "x-cos-metadata-directive",
    "x-cos-acl",
    "x-cos-grant-read",
    "x-cos-grant-write",
    "x-cos-grant-full-control",
    "x-cos-grant-read-acp",
    "x-cos-grant-write-acp",
    "x-cos-server-side-encryption",
    "x-cos-server-side-encryption-cos-kms-key-id",
    "x-cos-server-side-encryption-context",
    *CUSTOMER,
    "x-cos-copy-source-server-side-encryption-customer-algorithm",
    "x-cos-copy-source-server-side-encryption-customer-key",
    "x-cos-copy-source-server-side-encryption-customer-key-MD5",
    "x-cos-storage-class",
    "x-cos-meta-color",
    "x-cos-tagging",
    "x-cos-traffic-limit",
    "x-cos-forbid-overwrite",
    "x-cos-security-token",
    "x-cos-bucket-az-type",
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Content-MD5",
    "Content-Type",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
    "Origin",
]


def header_sets(world) -> st.SearchStrategy[dict[str, str]]:
    names = st.one_of(
        st.sampled_from(HEADER_NAMES),
        st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=10).map(
            lambda s: f"x-cos-meta-{s}"
        ),
    )
    return st.one_of(
        st.dictionaries(names, header_values(world), max_size=6),
        st.dictionaries(names, header_values(world), max_size=3).map(lambda h: {**CUSTOMER, **h}),
    )


def xml_documents() -> st.SearchStrategy[str]:
    leaf = st.one_of(odd_text.map(escape), odd_text, st.integers().map(str))
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            lambda tag, children: f"<{tag}>{''.join(children)}</{tag}>",
            st.sampled_from(XML_TAGS),
            st.lists(inner, max_size=4),
        ),
        max_leaves=20,
    )


ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Delete>&b;</Delete>'
)
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete><Key>&e;</Key></Delete>'


def bodies() -> st.SearchStrategy[bytes]:
    documents = xml_documents()
    return st.one_of(
        st.just(b""),
        st.binary(max_size=200),
        documents.map(str.encode),
        st.tuples(documents, st.integers(0, 200)).map(lambda d: d[0][: d[1]].encode()),  # truncated
        st.integers(1, 5000).map(lambda n: ("<Delete>" + "<Object>" * n + "</Object>" * n + "</Delete>").encode()),
        st.integers(1, 5000).map(lambda n: ("<Object>" * n).encode()),  # deep and never closed
        st.sampled_from(
            [
                ENTITY_BOMB.encode(),
                EXTERNAL.encode(),
                b'<?xml version="1.0" encoding="UTF-16"?><a/>',
                b"<Delete>\xff\xfe</Delete>",
                "<Delete><Key>\U0010ffff</Key></Delete>".encode(),
            ]
        ),
    )


@st.composite
def cos_requests(draw, world):
    method = draw(st.sampled_from(METHODS))
    bucket = draw(bucket_names(world))
    host = draw(
        st.one_of(
            st.just(wire.virtual_host(bucket)),
            st.just(wire.virtual_host(bucket)),
            st.sampled_from(
                [
                    f"service.cos.{REGION}.myqcloud.com",
                    f"{bucket}.cos.ap-shanghai.myqcloud.com",
                    f"{bucket}.cos-internal.{REGION}.tencentcos.cn",
                    f"{bucket}.cos..myqcloud.com",
                ]
            ),
        )
    )
    key = draw(keys(world))
    query = draw(st.lists(st.tuples(query_names(), query_values(world)), max_size=5))
    headers = draw(header_sets(world))
    body = draw(bodies()) if draw(st.booleans()) else b""
    signing = draw(st.sampled_from(["sdk", "sdk", "sdk", "sdk", "partly", "in-url", "anonymous", "wrong"]))
    proxy = bool(re.fullmatch(r"[A-Za-z0-9.-]+", host)) and draw(st.booleans())  # absolute-form needs a sane host
    return {
        "method": method,
        "host": host,
        "key": key,
        "query": query,
        "headers": headers,
        "body": body,
        "signing": signing,
        "proxy": proxy,
    }


# -- sending -------------------------------------------------------------------------------------------------


def query_string(query: list[tuple[str, str | None]]) -> str:
    return "&".join(quote(n, safe="") if v is None else f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in query)


def send(kinko, cos, wrong_signer, case: dict) -> requests.Response:
    path = wire.key_path(case["key"])
    query = query_string(case["query"])
    base = f"http://{case['host']}" if case["proxy"] else kinko.url
    url = f"{base}{path}" + (f"?{query}" if query else "")
    headers = {"Host": case["host"], **case["headers"]}
    prepared = requests.Request(case["method"], url, headers=headers, data=case["body"]).prepare()
    prepared.url = url  # exactly the bytes generated: requests must not re-encode the path or query
    signing = case["signing"]
    if signing != "anonymous":
        params = {n: v or "" for n, v in case["query"]}
        signed = dict(prepared.headers)
        if signing == "partly":
            for name in list(signed)[::2]:
                signed.pop(name)
        signer = wrong_signer if signing == "wrong" else cos
        authorization = wire.authorization(signer, case["method"], case["key"], signed, params)
        if signing == "in-url":
            prepared.url = url + ("&" if query else "?") + authorization
        else:
            prepared.headers["Authorization"] = authorization
    with requests.Session() as session:
        return session.send(prepared, timeout=30, proxies={"http": kinko.url} if case["proxy"] else None)


def is_cos_host(host: str) -> bool:
    return bool(BUCKET_HOST.match(host) or SERVICE_HOST.match(host))


def check_answer(case: dict, response: requests.Response) -> None:
    status = response.status_code
    asked = {name for name, _ in case["query"]}
    if case["method"] == "HEAD" or not is_cos_host(case["host"]):
        if status == 501:
            assert asked & operations.NOT_IMPLEMENTED or any(
                n.split("/")[0] in operations.PROCESSING_COMMANDS for n in asked
            ), (status, response.headers)
        else:
            assert status < 500, (status, response.headers, response.content[:500])
        return
    if status < 400:
        return
    root = ET.fromstring(response.content)  # noqa: S314 - the test server's own response
    fields = {child.tag: child.text for child in root}
    assert root.tag == "Error" and fields.get("Code") and fields.get("Message"), response.content[:500]
    assert status < 500 or (status, fields["Code"]) == (501, "NotImplemented"), (status, response.content[:500])


def test_generated_cos_requests_never_answer_a_server_error_nor_log_a_traceback(
    kinko, cos, wrong_signer, world, record_property
):
    cases = cos_requests(world)
    send_cases(
        "cos",
        SETTINGS,
        cases,
        lambda case: send(kinko, cos, wrong_signer, case),
        check_answer,
        kinko.log_path,
        record_property,
    )
