"""Every XML document Kinko sends parses, whatever the request named: a key or a value holding a character XML 1.0
cannot carry (C0 controls but tab, CR and LF; U+FFFE, U+FFFF) is written percent-encoded, as COS writes keys with
encoding-type=url, instead of breaking the document for the SDK. Found by tests/protocol/test_fuzz_cos.py."""

import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from urllib.parse import quote

import pytest

from tests.protocol import wire

UNCARRIED = ["\x01", "\x1f", "\x0b", "\ufffe", "\uffff"]


def document(response) -> ET.Element:
    return ET.fromstring(response.content)  # noqa: S314 - the test server's own response


@pytest.mark.parametrize("char", UNCARRIED, ids=[f"U+{ord(c):04X}" for c in UNCARRIED])
def test_an_error_about_a_key_with_an_uncarried_character_parses(kinko, cos, bucket, char):
    response = wire.send(kinko, cos, "PATCH", bucket, f"a{char}b")
    root = document(response)
    assert (response.status_code, root.findtext("Code")) == (405, "MethodNotAllowed")
    assert root.findtext("Resource").endswith(f"/a{quote(char)}b")


@pytest.mark.parametrize("char", UNCARRIED, ids=[f"U+{ord(c):04X}" for c in UNCARRIED])
def test_a_listing_of_a_key_with_an_uncarried_character_parses_and_the_sdk_reads_it_exactly(kinko, cos, bucket, char):
    cos.put_object(Bucket=bucket, Key=f"a{char}b", Body=b"x")
    try:
        plain = wire.send(kinko, cos, "GET", bucket)
        assert plain.status_code == 200
        assert [key.text for key in document(plain).iter("Key")] == [f"a{quote(char)}b"]
        assert cos.list_objects(Bucket=bucket)["Contents"][0]["Key"] == f"a{char}b"  # the SDK asks encoding-type=url
    finally:
        cos.delete_object(Bucket=bucket, Key=f"a{char}b")  # the SDK's Delete Multiple would send it in raw XML
