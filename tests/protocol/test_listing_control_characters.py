"""A listing stays well-formed XML whatever the keys hold: a key with characters XML 1.0 cannot carry (\\x01,
\\x1f) is listed url-encoded with <EncodingType>url</EncodingType> even when the client did not ask for it, and
the SDK, which asks for encoding-type=url, gets the key back exactly."""

from urllib.parse import unquote

from defusedxml import ElementTree as ET

from tests.protocol.wire import send, virtual_host

KEY = b"ctl/a\\x01b\\x1fc.txt".decode("unicode_escape")


def test_the_sdk_lists_a_key_with_control_characters_exactly(cos, bucket):
    cos.put_object(Bucket=bucket, Key=KEY, Body=b"x")
    listing = cos.list_objects(Bucket=bucket, Prefix="ctl/")
    cos.delete_object(Bucket=bucket, Key=KEY)  # the fixture's delete-multiple cannot carry it in XML either
    assert [item["Key"] for item in listing["Contents"]] == [KEY]


def test_a_listing_without_encoding_type_is_well_formed_and_url_encoded(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key=KEY, Body=b"x")
    cos.put_object(Bucket=bucket, Key="ctl/plain.txt", Body=b"x")
    response = send(kinko, cos, "GET", bucket, params={"prefix": "ctl/"}, host=virtual_host(bucket))
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)  # raises on ill-formed XML
    ns = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
    assert root.findtext(f"{ns}EncodingType") == "url"
    keys = [unquote(element.text) for element in root.iter(f"{ns}Key")]
    cos.delete_object(Bucket=bucket, Key=KEY)
    assert keys == [KEY, "ctl/plain.txt"]
