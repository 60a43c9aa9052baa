"""Bucket and object ACLs through the SDK (canned ACLs, grant headers, AccessControlPolicy bodies) and who they let
in: anonymous requests (plain `requests` without Authorization, or `Anonymous=True`) and a second account."""

import pytest
from qcloud_cos import CosServiceError

from tests.live import cos_client
from tests.protocol.support import (
    anonymous,
    body_of,
    empty_and_delete,
    error_code,
    new_bucket,
    other_account,
    service_error,
)

ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def uin_id(uin: str) -> str:
    return f"qcs::cam::uin/{uin}:uin/{uin}"


def grants_of(acl: dict) -> list[tuple[str, str]]:
    """(grantee ID or group URI, permission) of each grant, in order."""
    grants = acl["AccessControlList"]["Grant"]
    grants = grants if isinstance(grants, list) else [grants]
    return [(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"]) for g in grants]


@pytest.fixture(scope="module")
def owner_id(cos) -> str:
    return cos.list_buckets()["Owner"]["ID"]


def policy(owner: str, *grants: tuple[str, str]) -> dict:
    """An AccessControlPolicy dict for put_*_acl: (grantee ID or group URI, permission) per grant."""
    rendered = []
    for grantee, permission in grants:
        kind = (
            {"@xsi:type": "Group", "URI": grantee}
            if grantee == ALL_USERS
            else {"@xsi:type": "CanonicalUser", "ID": grantee}
        )
        rendered.append({"Grantee": {"@xmlns:xsi": XSI, **kind}, "Permission": permission})
    return {"Owner": {"ID": owner}, "AccessControlList": {"Grant": rendered}}


# -- bucket ACL -------------------------------------------------------------------------------------------


def test_a_new_bucket_grants_its_owner_full_control_only(cos, bucket, owner_id):
    acl = cos.get_bucket_acl(Bucket=bucket)
    assert (acl["Owner"]["ID"], grants_of(acl)) == (owner_id, [(owner_id, "FULL_CONTROL")])


def test_a_new_bucket_is_private(cos, bucket):
    assert cos.get_bucket_acl(Bucket=bucket)["CannedACL"] == "private"


@pytest.mark.parametrize("canned", ["public-read", "public-read-write", "private"])
def test_put_bucket_acl_with_a_canned_acl_is_read_back(any_cos, bucket, canned):
    any_cos.put_bucket_acl(Bucket=bucket, ACL=canned)
    assert any_cos.get_bucket_acl(Bucket=bucket)["CannedACL"] == canned


def test_public_read_write_bucket_acl_lists_the_all_users_grants(cos, bucket, owner_id):
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert grants_of(cos.get_bucket_acl(Bucket=bucket)) == [
        (owner_id, "FULL_CONTROL"),
        (ALL_USERS, "READ"),
        (ALL_USERS, "WRITE"),
    ]


def test_create_bucket_with_a_canned_acl_applies_it(cos):
    name = new_bucket(cos, ACL="public-read")
    try:
        canned = cos.get_bucket_acl(Bucket=name)["CannedACL"]
    finally:
        empty_and_delete(cos, name)
    assert canned == "public-read"


def test_put_bucket_acl_with_grant_headers_lists_the_grantees(cos, bucket, owner_id):
    cos.put_bucket_acl(
        Bucket=bucket,
        GrantRead='id="100000000011",id="qcs::cam::uin/100000000012:uin/100000000012"',
        GrantFullControl='id="100000000013"',
    )
    assert sorted(grants_of(cos.get_bucket_acl(Bucket=bucket))) == sorted(
        [
            (owner_id, "FULL_CONTROL"),
            (uin_id("100000000011"), "READ"),
            (uin_id("100000000012"), "READ"),
            (uin_id("100000000013"), "FULL_CONTROL"),
        ]
    )


def test_put_bucket_acl_with_an_all_users_grant_header_makes_it_public_read(cos, bucket):
    cos.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"')
    assert cos.get_bucket_acl(Bucket=bucket)["CannedACL"] == "public-read"


def test_put_bucket_acl_with_an_access_control_policy_body(cos, bucket, owner_id):
    cos.put_bucket_acl(
        Bucket=bucket,
        AccessControlPolicy=policy(owner_id, (owner_id, "FULL_CONTROL"), (uin_id("100000000011"), "WRITE")),
    )
    assert grants_of(cos.get_bucket_acl(Bucket=bucket)) == [
        (owner_id, "FULL_CONTROL"),
        (uin_id("100000000011"), "WRITE"),
    ]


def test_put_bucket_acl_with_a_public_access_control_policy_reads_back_as_public_read(cos, bucket, owner_id):
    cos.put_bucket_acl(
        Bucket=bucket, AccessControlPolicy=policy(owner_id, (owner_id, "FULL_CONTROL"), (ALL_USERS, "READ"))
    )
    assert cos.get_bucket_acl(Bucket=bucket)["CannedACL"] == "public-read"


def test_put_bucket_acl_with_an_unknown_canned_acl_is_invalid_argument(cos, bucket):
    with pytest.raises(CosServiceError) as err:
        cos.put_bucket_acl(Bucket=bucket, ACL="world-writable")
    assert service_error(err.value) == (400, "InvalidArgument")


def test_put_bucket_acl_with_the_object_only_default_acl_is_invalid_argument(cos, bucket):
    with pytest.raises(CosServiceError) as err:
        cos.put_bucket_acl(Bucket=bucket, ACL="default")
    assert service_error(err.value) == (400, "InvalidArgument")


# -- object ACL -------------------------------------------------------------------------------------------


def test_a_new_object_has_the_default_acl(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    assert any_cos.get_object_acl(Bucket=bucket, Key="a.txt")["CannedACL"] == "default"


def test_put_object_with_a_canned_acl_applies_it(cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x", ACL="public-read")
    assert cos.get_object_acl(Bucket=bucket, Key="a.txt")["CannedACL"] == "public-read"


@pytest.mark.parametrize("canned", ["public-read", "private", "default"])
def test_put_object_acl_with_a_canned_acl_is_read_back(any_cos, bucket, canned):
    initial = "private" if canned == "public-read" else "public-read"
    any_cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x", ACL=initial)
    any_cos.put_object_acl(Bucket=bucket, Key="a.txt", ACL=canned)
    assert any_cos.get_object_acl(Bucket=bucket, Key="a.txt")["CannedACL"] == canned


def test_put_object_acl_with_the_bucket_only_public_read_write_acl_is_invalid_argument(cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    with pytest.raises(CosServiceError) as err:
        cos.put_object_acl(Bucket=bucket, Key="a.txt", ACL="public-read-write")
    assert service_error(err.value) == (400, "InvalidArgument")


def test_put_object_acl_with_grant_headers_lists_the_grantees(cos, bucket, owner_id):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    cos.put_object_acl(Bucket=bucket, Key="a.txt", GrantRead='id="100000000011"', GrantFullControl='id="100000000012"')
    assert sorted(grants_of(cos.get_object_acl(Bucket=bucket, Key="a.txt"))) == sorted(
        [(owner_id, "FULL_CONTROL"), (uin_id("100000000011"), "READ"), (uin_id("100000000012"), "FULL_CONTROL")]
    )


def test_put_object_acl_with_an_access_control_policy_body(cos, bucket, owner_id):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    cos.put_object_acl(
        Bucket=bucket,
        Key="a.txt",
        AccessControlPolicy=policy(owner_id, (owner_id, "FULL_CONTROL"), (ALL_USERS, "READ")),
    )
    assert cos.get_object_acl(Bucket=bucket, Key="a.txt")["CannedACL"] == "public-read"


def test_the_acl_got_from_get_object_acl_can_be_put_back(cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x", GrantRead='id="100000000011"')
    acl = cos.get_object_acl(Bucket=bucket, Key="a.txt")
    cos.put_object(Bucket=bucket, Key="b.txt", Body=b"y")
    cos.put_object_acl(Bucket=bucket, Key="b.txt", AccessControlPolicy=acl)
    assert grants_of(cos.get_object_acl(Bucket=bucket, Key="b.txt")) == grants_of(acl)


def test_get_object_acl_of_a_missing_key_is_no_such_key(cos, bucket):
    with pytest.raises(CosServiceError) as err:
        cos.get_object_acl(Bucket=bucket, Key="missing.txt")
    assert service_error(err.value) == (404, "NoSuchKey")


# -- anonymous access -------------------------------------------------------------------------------------


@pytest.fixture
def public_read(cos, bucket) -> str:
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read")
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"for everyone")
    return bucket


@pytest.fixture
def public_read_write(cos, bucket) -> str:
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"for everyone")
    return bucket


@pytest.fixture
def anonymous_cos(kinko):
    return cos_client(kinko, Anonymous=True)


def test_anonymous_list_of_a_public_read_bucket_is_allowed(kinko, public_read):
    response = anonymous(kinko, "GET", public_read)
    assert (response.status_code, b"<Key>open.txt</Key>" in response.content) == (200, True)


def test_anonymous_get_from_a_public_read_bucket_returns_the_object(kinko, public_read):
    response = anonymous(kinko, "GET", public_read, "open.txt")
    assert (response.status_code, response.content) == (200, b"for everyone")


def test_anonymous_sdk_client_reads_from_a_public_read_bucket(anonymous_cos, public_read):
    assert body_of(anonymous_cos.get_object(Bucket=public_read, Key="open.txt")) == b"for everyone"


def test_anonymous_put_to_a_public_read_bucket_is_access_denied(kinko, public_read):
    response = anonymous(kinko, "PUT", public_read, "new.txt", data=b"intrusion")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_put_to_a_public_read_bucket_stores_nothing(kinko, cos, public_read):
    anonymous(kinko, "PUT", public_read, "new.txt", data=b"intrusion")
    assert cos.object_exists(Bucket=public_read, Key="new.txt") is False


def test_anonymous_delete_in_a_public_read_bucket_is_access_denied(kinko, cos, public_read):
    response = anonymous(kinko, "DELETE", public_read, "open.txt")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_get_of_a_public_read_bucket_acl_is_access_denied(kinko, public_read):
    response = anonymous(kinko, "GET", public_read, params={"acl": ""})
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_put_to_a_public_read_write_bucket_is_allowed(kinko, public_read_write):
    assert anonymous(kinko, "PUT", public_read_write, "new.txt", data=b"welcome").status_code == 200


def test_anonymous_put_to_a_public_read_write_bucket_stores_the_object(kinko, cos, public_read_write):
    anonymous(kinko, "PUT", public_read_write, "new.txt", data=b"welcome")
    assert body_of(cos.get_object(Bucket=public_read_write, Key="new.txt")) == b"welcome"


def test_anonymous_sdk_client_writes_to_a_public_read_write_bucket(cos, anonymous_cos, public_read_write):
    anonymous_cos.put_object(Bucket=public_read_write, Key="sdk.txt", Body=b"anonymous sdk")
    assert body_of(cos.get_object(Bucket=public_read_write, Key="sdk.txt")) == b"anonymous sdk"


def test_anonymous_put_acl_on_a_public_read_write_bucket_is_access_denied(kinko, public_read_write):
    response = anonymous(kinko, "PUT", public_read_write, params={"acl": ""}, headers={"x-cos-acl": "private"})
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_get_of_a_public_read_object_in_a_private_bucket_is_allowed(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"just this one", ACL="public-read")
    response = anonymous(kinko, "GET", bucket, "open.txt")
    assert (response.status_code, response.content) == (200, b"just this one")


def test_anonymous_head_of_a_public_read_object_in_a_private_bucket_is_allowed(anonymous_cos, cos, bucket):
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"just this one", ACL="public-read")
    assert anonymous_cos.head_object(Bucket=bucket, Key="open.txt")["Content-Length"] == "13"


def test_anonymous_get_of_its_private_neighbour_is_access_denied(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"just this one", ACL="public-read")
    cos.put_object(Bucket=bucket, Key="closed.txt", Body=b"not this one")
    response = anonymous(kinko, "GET", bucket, "closed.txt")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_list_of_a_private_bucket_with_a_public_object_is_access_denied(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"just this one", ACL="public-read")
    response = anonymous(kinko, "GET", bucket)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_a_private_object_in_a_public_read_bucket_is_closed_to_anonymous_get(kinko, cos, public_read):
    cos.put_object(Bucket=public_read, Key="closed.txt", Body=b"not this one", ACL="private")
    response = anonymous(kinko, "GET", public_read, "closed.txt")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_resetting_an_object_acl_to_default_closes_it_in_a_private_bucket(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="was-open.txt", Body=b"x", ACL="public-read")
    cos.put_object_acl(Bucket=bucket, Key="was-open.txt", ACL="default")
    assert anonymous(kinko, "GET", bucket, "was-open.txt").status_code == 403


def test_anonymous_head_of_a_private_object_is_403_with_a_request_id(anonymous_cos, cos, bucket):
    cos.put_object(Bucket=bucket, Key="closed.txt", Body=b"x")
    with pytest.raises(CosServiceError) as err:
        anonymous_cos.head_object(Bucket=bucket, Key="closed.txt")
    assert (err.value.get_status_code(), "x-cos-request-id" in err.value.get_digest_msg()) == (403, True)


def test_anonymous_head_of_a_private_bucket_is_403_with_a_request_id(anonymous_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        anonymous_cos.head_bucket(Bucket=bucket)
    assert (err.value.get_status_code(), "x-cos-request-id" in err.value.get_digest_msg()) == (403, True)


# -- another account --------------------------------------------------------------------------------------


@pytest.fixture
def stranger(kinko):
    """The second account's client."""
    account = other_account(kinko)
    return account, account.client(kinko)


def test_another_account_cannot_read_a_private_object(cos, bucket, stranger):
    _, client = stranger
    cos.put_object(Bucket=bucket, Key="secret.txt", Body=b"private")
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="secret.txt")
    assert service_error(err.value) == (403, "AccessDenied")


def test_another_account_cannot_list_a_private_bucket(bucket, stranger):
    _, client = stranger
    with pytest.raises(CosServiceError) as err:
        client.list_objects(Bucket=bucket)
    assert service_error(err.value) == (403, "AccessDenied")


def test_another_account_reads_an_object_whose_acl_grants_it_read(cos, bucket, stranger):
    account, client = stranger
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"for you")
    cos.put_object_acl(Bucket=bucket, Key="shared.txt", GrantRead=f'id="{account.uin}"')
    assert body_of(client.get_object(Bucket=bucket, Key="shared.txt")) == b"for you"


def test_another_account_lists_a_bucket_whose_acl_grants_it_read(cos, bucket, stranger):
    account, client = stranger
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"for you")
    cos.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{account.uin}"')
    assert [item["Key"] for item in client.list_objects(Bucket=bucket)["Contents"]] == ["shared.txt"]


def test_a_bucket_read_grant_does_not_let_another_account_write(cos, bucket, stranger):
    account, client = stranger
    cos.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{account.uin}"')
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=bucket, Key="planted.txt", Body=b"x")
    assert service_error(err.value) == (403, "AccessDenied")


def test_a_bucket_write_grant_lets_another_account_upload(cos, bucket, stranger):
    account, client = stranger
    cos.put_bucket_acl(Bucket=bucket, GrantWrite=f'id="{account.uin}"')
    client.put_object(Bucket=bucket, Key="delivered.txt", Body=b"delivery")
    assert body_of(cos.get_object(Bucket=bucket, Key="delivered.txt")) == b"delivery"


def test_another_account_cannot_change_a_bucket_acl(bucket, stranger):
    _, client = stranger
    with pytest.raises(CosServiceError) as err:
        client.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert service_error(err.value) == (403, "AccessDenied")


def test_a_full_control_grant_does_not_let_another_account_delete_the_bucket(cos, bucket, stranger):
    account, client = stranger
    cos.put_bucket_acl(Bucket=bucket, GrantFullControl=f'id="{account.uin}"')
    with pytest.raises(CosServiceError) as err:
        client.delete_bucket(Bucket=bucket)
    assert service_error(err.value) == (403, "AccessDenied")
