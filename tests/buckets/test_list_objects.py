"""GET Bucket (service.list_objects): paging, delimiter roll-ups, markers and key order."""

import pytest

from buckets import service
from buckets.models import StoredObject
from tests.factories import BucketFactory, StoredObjectFactory

pytestmark = pytest.mark.django_db

# 25 "directories" of 100 keys, 500 top-level keys, and keys that sort right next to a directory's prefix:
# "d05" and "d05.txt" before "d05/", "d050/x" after it (and not inside it).
KEYS = (
    [f"d{i:02d}/k{j:03d}" for i in range(25) for j in range(100)]
    + [f"f{i:04d}" for i in range(493)]
    + ["d05", "d05.txt", "d05-x", "d050/x", "d050/y/z", "d24/sub/deeper", "e"]
)


def utf8_order(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def rolled_up(keys, prefix: str = "", delimiter: str = "") -> list[str]:
    """The entries GET Bucket owes, in order: keys under `prefix`, cut after the first `delimiter`."""
    entries: list[str] = []
    for key in utf8_order(keys):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entry = key[: cut + len(delimiter)] if cut >= 0 else key
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


def page_entries(listing: service.Listing) -> list[str]:
    return utf8_order([obj.key for obj in listing.objects] + listing.common_prefixes)


def list_all(bucket, **options) -> tuple[list[str], list[service.Listing]]:
    """Follow NextMarker until IsTruncated is false; the entries of every page in order, and the pages."""
    entries: list[str] = []
    pages: list[service.Listing] = []
    marker = options.pop("marker", "")
    while True:
        listing = service.list_objects(bucket, marker=marker, **options)
        pages.append(listing)
        entries += page_entries(listing)
        if not listing.is_truncated:
            return entries, pages
        assert listing.next_marker, "a truncated page must say where to continue"
        marker = listing.next_marker
        assert len(pages) <= len(KEYS) + 1, "paging does not advance"


def store(bucket, keys) -> None:
    """Rows only, each pointing at the same dummy blob: listings never open blobs."""
    template = StoredObjectFactory.build(bucket=bucket)
    StoredObject.objects.bulk_create(
        StoredObject(
            bucket=bucket,
            key=key,
            size_bytes=template.size_bytes,
            etag=template.etag,
            crc64=template.crc64,
            blob=template.blob,
            last_modified=template.last_modified,
        )
        for key in keys
    )


@pytest.fixture
def bucket():
    bucket = BucketFactory()
    store(bucket, KEYS)
    return bucket


def test_the_fixture_holds_3000_keys(bucket):
    assert StoredObject.objects.filter(bucket=bucket).count() == len(KEYS) == 3000


def test_list_objects_returns_the_first_max_keys_in_order(bucket):
    listing = service.list_objects(bucket, max_keys=10)
    assert [obj.key for obj in listing.objects] == utf8_order(KEYS)[:10]
    assert listing.common_prefixes == []
    assert listing.is_truncated


@pytest.mark.parametrize("max_keys", [7, 333, 999, 1000])
def test_paging_without_delimiter_returns_every_key_exactly_once_in_order(bucket, max_keys):
    entries, pages = list_all(bucket, max_keys=max_keys)
    assert entries == utf8_order(KEYS)
    assert all(len(page.objects) == max_keys for page in pages[:-1])


def test_next_marker_without_delimiter_is_the_last_key_of_the_page(bucket):
    listing = service.list_objects(bucket, max_keys=250)
    assert listing.next_marker == listing.objects[-1].key


def test_a_page_that_ends_exactly_at_the_last_key_is_not_truncated(bucket):
    last_page = service.list_objects(bucket, marker=utf8_order(KEYS)[-4], max_keys=3)
    assert [obj.key for obj in last_page.objects] == utf8_order(KEYS)[-3:]
    assert not last_page.is_truncated
    assert last_page.next_marker is None


def test_list_objects_with_marker_returns_keys_after_it(bucket):
    listing = service.list_objects(bucket, marker="d05/k097", max_keys=5)
    assert [obj.key for obj in listing.objects] == ["d05/k098", "d05/k099", "d050/x", "d050/y/z", "d06/k000"]


def test_list_objects_with_marker_that_is_not_a_key_starts_after_where_it_would_be(bucket):
    listing = service.list_objects(bucket, marker="d05/k0975", max_keys=2)
    assert [obj.key for obj in listing.objects] == ["d05/k098", "d05/k099"]


def test_list_objects_with_delimiter_rolls_keys_up_into_common_prefixes(bucket):
    listing = service.list_objects(bucket, delimiter="/", max_keys=1000)
    assert listing.common_prefixes == [f"d{i:02d}/" for i in range(6)] + ["d050/"] + [
        f"d{i:02d}/" for i in range(6, 25)
    ]
    assert [obj.key for obj in listing.objects] == utf8_order(["d05", "d05-x", "d05.txt", "e"]) + [
        f"f{i:04d}" for i in range(493)
    ]
    assert not listing.is_truncated


@pytest.mark.parametrize("max_keys", [1, 2, 5, 26, 1000])
def test_paging_with_delimiter_returns_every_key_or_prefix_exactly_once(bucket, max_keys):
    entries, pages = list_all(bucket, delimiter="/", max_keys=max_keys)
    assert entries == rolled_up(KEYS, delimiter="/")
    assert all(len(page.objects) + len(page.common_prefixes) == max_keys for page in pages[:-1])


def test_next_marker_of_a_page_ending_in_a_common_prefix_is_that_prefix(bucket):
    listing = service.list_objects(bucket, delimiter="/", max_keys=3)
    assert listing.common_prefixes == ["d00/", "d01/", "d02/"]
    assert listing.next_marker == "d02/"


def test_common_prefix_as_marker_continues_after_that_prefix(bucket):
    listing = service.list_objects(bucket, delimiter="/", marker="d05/", max_keys=2)
    assert page_entries(listing) == ["d050/", "d06/"]


def test_marker_inside_a_common_prefix_resumes_after_that_prefix(bucket):
    listing = service.list_objects(bucket, delimiter="/", marker="d05/k050", max_keys=3)
    assert page_entries(listing) == ["d050/", "d06/", "d07/"]


def test_marker_inside_a_common_prefix_does_not_skip_keys_that_merely_share_its_characters(bucket):
    listing = service.list_objects(bucket, delimiter="/", marker="d04/k000", max_keys=4)
    assert page_entries(listing) == ["d05", "d05-x", "d05.txt", "d05/"]


def test_prefix_with_delimiter_lists_one_level_below_the_prefix(bucket):
    listing = service.list_objects(bucket, prefix="d24/", delimiter="/", max_keys=1000)
    assert [obj.key for obj in listing.objects] == [f"d24/k{j:03d}" for j in range(100)]
    assert listing.common_prefixes == ["d24/sub/"]


def test_paging_with_prefix_and_delimiter_returns_every_entry_exactly_once(bucket):
    entries, _ = list_all(bucket, prefix="d05", delimiter="/", max_keys=2)
    assert entries == ["d05", "d05-x", "d05.txt", "d05/", "d050/"]


def test_prefix_without_delimiter_pages_through_the_keys_under_it(bucket):
    entries, _ = list_all(bucket, prefix="d050/", max_keys=1)
    assert entries == ["d050/x", "d050/y/z"]


def test_prefix_matching_is_case_sensitive():
    bucket = BucketFactory()
    store(bucket, ["Docs/a", "DOCS/b", "docs/c", "docs/d"])
    listing = service.list_objects(bucket, prefix="docs/")
    assert [obj.key for obj in listing.objects] == ["docs/c", "docs/d"]


def test_prefix_matching_treats_like_wildcards_literally():
    bucket = BucketFactory()
    store(bucket, ["a%b/1", "a_b/2", "axb/3", "a\\b/4"])
    assert [obj.key for obj in service.list_objects(bucket, prefix="a_b").objects] == ["a_b/2"]
    assert [obj.key for obj in service.list_objects(bucket, prefix="a%").objects] == ["a%b/1"]


def test_delimiter_of_several_characters_rolls_up_at_the_whole_delimiter():
    bucket = BucketFactory()
    store(bucket, ["a--b--c", "a--d", "a-e", "b"])
    listing = service.list_objects(bucket, delimiter="--")
    assert listing.common_prefixes == ["a--"]
    assert [obj.key for obj in listing.objects] == ["a-e", "b"]


def test_listing_an_empty_bucket_is_empty_and_not_truncated():
    listing = service.list_objects(BucketFactory(), delimiter="/")
    assert (listing.objects, listing.common_prefixes, listing.is_truncated, listing.next_marker) == (
        [],
        [],
        False,
        None,
    )


def test_listing_shows_only_the_buckets_own_keys(bucket):
    other = BucketFactory(owner=bucket.owner)
    store(other, ["only-in-other"])
    assert [obj.key for obj in service.list_objects(other).objects] == ["only-in-other"]


# -- unicode ----------------------------------------------------------------------------------------------

# "～" (U+FF5E, EF BD 9E) sorts before "😀" (U+1F600, F0 9F 98 80) in UTF-8, after it in UTF-16.
UNICODE_KEYS = ["Z", "a", "z", "é", "ÿ", "中/文", "中文", "～", "😀", "😀/x", "a b", "a+b", "a/ü"]


@pytest.fixture
def unicode_bucket():
    bucket = BucketFactory()
    store(bucket, UNICODE_KEYS)
    return bucket


def test_unicode_keys_are_listed_in_utf8_byte_order(unicode_bucket):
    listing = service.list_objects(unicode_bucket)
    assert [obj.key for obj in listing.objects] == [
        "Z",
        "a",
        "a b",
        "a+b",
        "a/ü",
        "z",
        "é",
        "ÿ",
        "中/文",
        "中文",
        "～",
        "😀",
        "😀/x",
    ]


def test_paging_one_unicode_key_at_a_time_returns_each_exactly_once(unicode_bucket):
    entries, _ = list_all(unicode_bucket, max_keys=1)
    assert entries == utf8_order(UNICODE_KEYS)


def test_paging_unicode_keys_with_delimiter_rolls_up_unicode_prefixes(unicode_bucket):
    entries, _ = list_all(unicode_bucket, delimiter="/", max_keys=1)
    assert entries == ["Z", "a", "a b", "a+b", "a/", "z", "é", "ÿ", "中/", "中文", "～", "😀", "😀/"]


def test_unicode_delimiter_rolls_up_keys():
    bucket = BucketFactory()
    store(bucket, ["年报／2023", "年报／2024", "年报"])
    listing = service.list_objects(bucket, delimiter="／")
    assert listing.common_prefixes == ["年报／"]
    assert [obj.key for obj in listing.objects] == ["年报"]


# -- one entry at a time, and counted (the JSON API's pages) -----------------------------------------------------


def entry_names(entries) -> list[str]:
    return [entry if isinstance(entry, str) else entry.key for entry in entries]


@pytest.mark.parametrize(
    "options",
    [{}, {"delimiter": "/"}, {"prefix": "d05", "delimiter": "/"}, {"prefix": "d24/", "delimiter": "/"}],
    ids=["flat", "delimiter", "prefix-and-delimiter", "folder"],
)
def test_listing_entries_yields_what_paging_returns_in_order(bucket, options):
    assert entry_names(service.listing_entries(bucket, **options)) == rolled_up(KEYS, **options)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"marker": "d05/k097"},
        {"delimiter": "/"},
        {"delimiter": "/", "marker": "d05/"},
        {"delimiter": "/", "marker": "d05/k050"},
        {"delimiter": "/", "marker": "d04/k000"},
        {"prefix": "d05", "delimiter": "/"},
        {"prefix": "d05", "delimiter": "/", "marker": "d05.txt"},
        {"prefix": "d24/", "delimiter": "/"},
        {"prefix": "nothing-here/", "delimiter": "/"},
        {"delimiter": "k0", "prefix": "d01/"},
        {"marker": utf8_order(KEYS)[-1]},
    ],
)
def test_counted_entries_are_as_many_as_listing_entries_yields(bucket, options):
    assert service.count_listing_entries(bucket, **options) == len(list(service.listing_entries(bucket, **options)))


@pytest.mark.parametrize(
    ("keys", "options"),
    [
        (UNICODE_KEYS, {"delimiter": "/"}),
        (UNICODE_KEYS, {"delimiter": "/", "marker": "a/"}),
        (["年报／2023", "年报／2024", "年报"], {"delimiter": "／"}),
        (["a--b--c", "a--d", "a-e", "b"], {"delimiter": "--"}),
        (["aXb", "axb", "aXc/d"], {"delimiter": "x"}),  # case-sensitive, unlike SQLite's LIKE
        (["a%b/1", "a_b/2", "axb/3"], {"delimiter": "_"}),
        (["a\U0010ffff/1", "a\U0010ffff/2", "b"], {"delimiter": "/", "marker": "a"}),
    ],
)
def test_counted_entries_match_for_unicode_case_and_wildcard_delimiters(keys, options):
    bucket = BucketFactory()
    store(bucket, keys)
    assert service.count_listing_entries(bucket, **options) == len(list(service.listing_entries(bucket, **options)))
