"""Listings are in UTF-8 byte order on every database. On PostgreSQL the test cluster's locale is en_US.UTF-8, whose
collation puts "B" between "a" and "c", ignores "-" and "_" at first and puts "é" beside "e": only the "C"
collation of the key columns (core.db.ByteOrderCharField) keeps the byte order COS lists in."""

import secrets

import pytest
from django.db import connection

from buckets import multipart, service
from buckets.models import MultipartUpload
from tests.buckets.test_list_objects import list_all, store, utf8_order
from tests.factories import AccountFactory, BucketFactory

pytestmark = pytest.mark.django_db

KEYS = ["a", "B", "_x", "é", "Z", "~", "a-c", "ab", "A b", "e", "f", "ac", "-", "a_b", "Ä", "z"]


def database_order(values: list[str]) -> list[str]:
    """How the database sorts text by its own default collation (what a column without "C" would do)."""
    rows = ", ".join(["(%s)"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT column1 FROM (VALUES {rows}) AS t ORDER BY column1", values)  # noqa: S608 - placeholders
        return [row[0] for row in cursor.fetchall()]


def test_the_keys_sort_differently_by_the_databases_own_collation_on_postgresql():
    """What makes the tests below mean something on PostgreSQL; SQLite compares bytes by default."""
    if connection.vendor == "postgresql":
        assert database_order(KEYS) != utf8_order(KEYS)
    else:
        assert database_order(KEYS) == utf8_order(KEYS)


def test_objects_are_listed_in_byte_order():
    bucket = BucketFactory()
    store(bucket, KEYS)
    assert [obj.key for obj in service.list_objects(bucket).objects] == utf8_order(KEYS)


def test_paging_one_key_at_a_time_follows_byte_order():
    """Each page starts after its marker (key > marker), which compares in the column's collation too."""
    bucket = BucketFactory()
    store(bucket, KEYS)
    entries, _ = list_all(bucket, max_keys=1)
    assert entries == utf8_order(KEYS)


def test_prefix_and_delimiter_select_and_roll_up_by_bytes():
    bucket = BucketFactory()
    store(bucket, [f"{key}/x" for key in KEYS] + KEYS)
    listing = service.list_objects(bucket, prefix="a", delimiter="/")
    assert [obj.key for obj in listing.objects] == utf8_order([k for k in KEYS if k.startswith("a")])
    assert listing.common_prefixes == utf8_order([f"{k}/" for k in KEYS if k.startswith("a")])
    assert service.count_listing_entries(bucket, delimiter="/", marker="a") == len(
        [k for k in KEYS if k.encode() > b"a"]
    ) + len([k for k in KEYS if f"{k}/".encode() > b"a"])


def test_multipart_uploads_are_listed_in_byte_order_and_page_by_key_marker():
    bucket = BucketFactory()
    for key in KEYS:
        MultipartUpload.objects.create(bucket=bucket, key=key, upload_id=secrets.token_hex(24), initiator=bucket.owner)
    page = multipart.list_multipart_uploads(bucket)
    assert [upload.key for upload in page.uploads] == utf8_order(KEYS)
    after = multipart.list_multipart_uploads(bucket, key_marker="a")
    assert [upload.key for upload in after.uploads] == [k for k in utf8_order(KEYS) if k.encode() > b"a"]


def test_buckets_are_listed_in_byte_order_of_their_names():
    owner = AccountFactory()
    names = [f"{label}-{owner.appid}" for label in ("a-c", "ab", "a0", "a9z", "b")]
    for name in names:
        BucketFactory(owner=owner, name=name)
    assert [bucket.name for bucket in service.list_buckets(owner)] == utf8_order(names)
