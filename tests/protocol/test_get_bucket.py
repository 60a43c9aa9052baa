"""GET Bucket (list_objects): prefix, delimiter, marker, max-keys, encoding-type=url and pagination."""

import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from qcloud_cos import CosServiceError

from tests.live import APPID, cos_client
from tests.protocol import wire

TREE = ["a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt", "e/f.txt", "z.txt"]
AWKWARD = [
    "w/with space.txt",
    "w/plus+sign",
    "w/100%",
    "w/percent%20literal",
    "w/中文/文件.txt",
    "w/中文/二.txt",
    "w/question?mark",
    "w/hash#tag",
    "w/amp&er=sand",
    "w/a b+c/inner",
    "w/émoji 😀",
    "w/a//b/../c",
]


def expected_listing(keys: list[str], prefix: str = "", delimiter: str = "", marker: str = "") -> list[str]:
    """Reference model: the entries (keys and common prefixes) of a complete listing, in UTF-8 byte order."""
    entries = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entries.add(key[: cut + len(delimiter)] if cut >= 0 else key)
    return sorted(entry for entry in entries if entry.encode() > marker.encode())


def entries_of(result: dict) -> list[str]:
    keys = [item["Key"] for item in result.get("Contents", [])]
    prefixes = [item["Prefix"] for item in result.get("CommonPrefixes", [])]
    return sorted(keys + prefixes, key=str.encode)


def keys_of(result: dict) -> list[str]:
    return [item["Key"] for item in result.get("Contents", [])]


def prefixes_of(result: dict) -> list[str]:
    return [item["Prefix"] for item in result.get("CommonPrefixes", [])]


def put_all(client, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))


@pytest.fixture
def tree(cos, bucket) -> str:
    put_all(cos, bucket, TREE)
    return bucket


@pytest.fixture
def awkward(cos, bucket) -> str:
    put_all(cos, bucket, AWKWARD)
    return bucket


# -- prefix, delimiter, marker, max-keys ------------------------------------------------------------------


def test_list_objects_returns_every_key_in_order(any_cos, tree):
    assert keys_of(any_cos.list_objects(Bucket=tree)) == TREE


def test_list_objects_of_an_empty_bucket_is_empty_and_not_truncated(any_cos, bucket):
    result = any_cos.list_objects(Bucket=bucket)
    assert (keys_of(result), prefixes_of(result), result["IsTruncated"]) == ([], [], "false")


def test_list_objects_with_a_prefix_returns_only_matching_keys(any_cos, tree):
    assert keys_of(any_cos.list_objects(Bucket=tree, Prefix="dir/")) == ["dir/b.txt", "dir/c.txt", "dir/sub/d.txt"]


def test_list_objects_with_a_delimiter_rolls_keys_up_into_common_prefixes(any_cos, tree):
    result = any_cos.list_objects(Bucket=tree, Delimiter="/")
    assert (keys_of(result), prefixes_of(result)) == (["a.txt", "z.txt"], ["dir/", "e/"])


def test_list_objects_prefix_is_case_sensitive(cos, bucket):
    put_all(cos, bucket, ["Abc", "abc", "ABC/x"])
    assert keys_of(cos.list_objects(Bucket=bucket, Prefix="a")) == ["abc"]


def test_list_objects_prefix_matches_underscore_and_percent_literally(cos, bucket):
    put_all(cos, bucket, ["a_b", "axb", "a%c", "ayc"])
    listed = [keys_of(cos.list_objects(Bucket=bucket, Prefix=prefix)) for prefix in ("a_", "a%")]
    assert listed == [["a_b"], ["a%c"]]


def test_list_objects_with_a_prefix_and_a_delimiter_lists_one_level(any_cos, tree):
    result = any_cos.list_objects(Bucket=tree, Prefix="dir/", Delimiter="/")
    assert (keys_of(result), prefixes_of(result)) == (["dir/b.txt", "dir/c.txt"], ["dir/sub/"])


def test_list_objects_with_a_multi_character_delimiter(cos, tree):
    result = cos.list_objects(Bucket=tree, Delimiter=".txt")
    assert (keys_of(result), prefixes_of(result)) == (
        [],
        ["a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt", "e/f.txt", "z.txt"],
    )


def test_list_objects_with_a_marker_starts_after_it(any_cos, tree):
    assert keys_of(any_cos.list_objects(Bucket=tree, Marker="dir/c.txt")) == ["dir/sub/d.txt", "e/f.txt", "z.txt"]


def test_list_objects_with_a_marker_between_keys_starts_at_the_next_key(cos, tree):
    assert keys_of(cos.list_objects(Bucket=tree, Marker="dir/bz")) == ["dir/c.txt", "dir/sub/d.txt", "e/f.txt", "z.txt"]


def test_list_objects_with_max_keys_truncates(any_cos, tree):
    result = any_cos.list_objects(Bucket=tree, MaxKeys=2)
    assert (keys_of(result), result["IsTruncated"], result["NextMarker"]) == (
        ["a.txt", "dir/b.txt"],
        "true",
        "dir/b.txt",
    )


def test_list_objects_continues_from_next_marker(any_cos, tree):
    first = any_cos.list_objects(Bucket=tree, MaxKeys=2)
    second = any_cos.list_objects(Bucket=tree, MaxKeys=2, Marker=first["NextMarker"])
    assert keys_of(second) == ["dir/c.txt", "dir/sub/d.txt"]


def test_list_objects_max_keys_counts_common_prefixes(any_cos, tree):
    result = any_cos.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert (entries_of(result), result["IsTruncated"], result["NextMarker"]) == (["a.txt", "dir/"], "true", "dir/")


def test_list_objects_after_a_common_prefix_marker_skips_the_whole_prefix(any_cos, tree):
    result = any_cos.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2, Marker="dir/")
    assert (keys_of(result), prefixes_of(result)) == (["z.txt"], ["e/"])


def test_list_objects_exactly_filling_max_keys_is_not_truncated(cos, tree):
    result = cos.list_objects(Bucket=tree, MaxKeys=len(TREE))
    assert (keys_of(result), result["IsTruncated"]) == (TREE, "false")


def test_list_objects_reports_size_etag_storage_class_and_last_modified(cos, bucket):
    cos.put_object(Bucket=bucket, Key="one.txt", Body=b"hello")
    (item,) = cos.list_objects(Bucket=bucket)["Contents"]
    assert (item["Size"], item["ETag"], item["StorageClass"]) == ("5", '"5d41402abc4b2a76b9719d911017c592"', "STANDARD")
    datetime.strptime(item["LastModified"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_list_objects_is_stable_across_calls(cos, tree):
    assert cos.list_objects(Bucket=tree, MaxKeys=3) == cos.list_objects(Bucket=tree, MaxKeys=3)


# -- encoding-type=url ------------------------------------------------------------------------------------


def test_list_objects_round_trips_awkward_keys(any_cos, awkward):
    assert keys_of(any_cos.list_objects(Bucket=awkward, Prefix="w/")) == expected_listing(AWKWARD, "w/")


def test_list_objects_round_trips_awkward_common_prefixes(any_cos, awkward):
    result = any_cos.list_objects(Bucket=awkward, Prefix="w/", Delimiter="/")
    assert entries_of(result) == expected_listing(AWKWARD, "w/", "/")


@pytest.mark.parametrize("prefix", ["w/中文/", "w/a b+c/", "w/100%", "w/plus+", "w/with "])
def test_list_objects_with_an_awkward_prefix_returns_matching_keys(any_cos, awkward, prefix):
    result = any_cos.list_objects(Bucket=awkward, Prefix=prefix)
    assert (keys_of(result), result["Prefix"]) == (expected_listing(AWKWARD, prefix), prefix)


@pytest.mark.parametrize("marker", ["w/hash#tag", "w/a b+c/inner", "w/100%", "w/question?mark", "w/中文/"])
def test_list_objects_with_an_awkward_marker_starts_after_it(any_cos, awkward, marker):
    result = any_cos.list_objects(Bucket=awkward, Prefix="w/", Marker=marker)
    assert (keys_of(result), result["Marker"]) == (expected_listing(AWKWARD, "w/", marker=marker), marker)


def test_list_objects_truncated_at_an_awkward_key_continues_after_it(cos, awkward):
    seen, marker = [], ""
    while True:
        result = cos.list_objects(Bucket=awkward, Prefix="w/", MaxKeys=1, Marker=marker)
        seen += keys_of(result)
        if result["IsTruncated"] != "true":
            break
        marker = result["NextMarker"]
    assert seen == expected_listing(AWKWARD, "w/")


def test_list_objects_encodes_a_space_as_percent_20(kinko, cos, awkward):
    params = {"prefix": "w/with", "delimiter": "", "marker": "", "max-keys": "1000", "encoding-type": "url"}
    response = wire.send(kinko, cos, "GET", awkward, params=params)
    keys = [element.text for element in ET.fromstring(response.content).iter("Key")]  # noqa: S314
    assert keys == ["w%2Fwith%20space.txt"]


def test_list_objects_without_encoding_type_returns_plain_keys(kinko, cos, awkward):
    response = wire.send(kinko, cos, "GET", awkward, params={"prefix": "w/中文/"})
    keys = [element.text for element in ET.fromstring(response.content).iter("Key")]  # noqa: S314
    assert keys == ["w/中文/二.txt", "w/中文/文件.txt"]


# -- invalid arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_keys", ["1001", "-1", "abc", "1.5", "99999999999999999999999"])
def test_list_objects_with_an_invalid_max_keys_fails_with_invalid_argument(any_cos, bucket, max_keys):
    with pytest.raises(CosServiceError) as err:
        any_cos.list_objects(Bucket=bucket, MaxKeys=max_keys)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")


@pytest.mark.parametrize("encoding", ["base64", "URL", "xml"])
def test_list_objects_with_an_invalid_encoding_type_fails_with_invalid_argument(kinko, cos, bucket, encoding):
    # Raw, because the SDK refuses any EncodingType but "url" itself.
    response = wire.send(kinko, cos, "GET", bucket, params={"encoding-type": encoding})
    assert (response.status_code, wire.error_code(response.content)) == (400, "InvalidArgument")


# -- pagination over thousands of keys --------------------------------------------------------------------

# 2,000 top-level keys plus 100 "directories" of 5 keys each: 2,500 objects, 2,100 entries with "/".
MANY = [f"k{i:04d}" for i in range(2000)] + [f"k{i:04d}/part{j}" for i in range(0, 200, 2) for j in range(5)]


@pytest.fixture(scope="module")
def many(kinko) -> str:
    client = cos_client(kinko)
    name = f"m{uuid.uuid4().hex[:12]}-{APPID}"
    client.create_bucket(Bucket=name)
    put_all(client, name, MANY)
    yield name
    chunks = [MANY[i : i + 500] for i in range(0, len(MANY), 500)]
    with ThreadPoolExecutor(len(chunks)) as pool:
        list(
            pool.map(
                lambda chunk: client.delete_objects(
                    Bucket=name, Delete={"Quiet": "true", "Object": [{"Key": key} for key in chunk]}
                ),
                chunks,
            )
        )
    client.delete_bucket(Bucket=name)


def page_through(client, bucket: str, **params) -> list[dict]:
    """Every page of a listing, following NextMarker, as the SDK returns them."""
    pages, marker = [], ""
    while True:
        result = client.list_objects(Bucket=bucket, Marker=marker, **params)
        pages.append(result)
        if result["IsTruncated"] == "false":
            return pages
        assert result["IsTruncated"] == "true"
        marker = result["NextMarker"]
        assert len(pages) < 200, "the listing does not end"


def test_paging_through_thousands_of_keys_sees_each_key_once_in_order(cos, many):
    pages = page_through(cos, many)
    assert [key for page in pages for key in keys_of(page)] == sorted(MANY)


def test_paging_through_thousands_of_keys_fills_every_page_but_the_last(cos, many):
    assert [len(keys_of(page)) for page in page_through(cos, many)] == [1000, 1000, 500]


def test_paging_with_a_delimiter_sees_each_entry_once_in_order(any_cos, many):
    pages = page_through(any_cos, many, Delimiter="/", MaxKeys=37)
    assert [entry for page in pages for entry in entries_of(page)] == expected_listing(MANY, delimiter="/")


def test_paging_with_a_delimiter_returns_keys_and_prefixes_in_order_within_each_page(cos, many):
    pages = page_through(cos, many, Delimiter="/", MaxKeys=37)
    in_order = [
        keys_of(page) == sorted(keys_of(page)) and prefixes_of(page) == sorted(prefixes_of(page)) for page in pages
    ]
    assert all(in_order)


def test_paging_with_a_delimiter_fills_every_page_but_the_last(cos, many):
    sizes = [len(entries_of(page)) for page in page_through(cos, many, Delimiter="/", MaxKeys=37)]
    assert sizes == [37] * (2100 // 37) + [2100 % 37]
