"""The JSON API (/api/v1/) over real HTTP against the live server: every route of console/jsonapi/urls.py with its
success shape and its errors (`{"code", "detail"}` with a stable code), token and console-session authentication,
and sub-users held to their CAM policies (PRODUCT.md: JSON API resources, error contract)."""

import base64
import datetime
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.console.jsonapi_support import (
    TRUST_POLICY,
    Api,
    bucket_name,
    failure,
    listed,
    new_bucket,
    object_path,
    ok,
    put_object,
    sub_user,
    unique,
    wait_for_job,
)
from tests.live import APPID, REGION, Worker, cos_client
from tests.protocol.support import MiB, manage, other_account

KMS_REGIONS = {"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-hongkong"}
NO_KMS_REGION = "ap-singapore"
PRESET_POLICIES = {
    "QcloudKMSAccessForCOSRole",
    "QcloudCOSFullAccess",
    "QcloudCOSReadOnlyAccess",
    "QcloudKMSFullAccess",
    "QcloudCAMFullAccess",
}
WRAPPINGS = {
    "RSAES_PKCS1_V1_5": padding.PKCS1v15(),
    "RSAES_OAEP_SHA_1": padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),  # noqa: S303
    "RSAES_OAEP_SHA_256": padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
}
JOB_FIELDS = {"id", "kind", "status", "total", "done", "failed", "skipped", "errors"}
SSE_C_KEY = os.urandom(32)
SSE_C = {  # the SSE-C trio as COS SDK arguments
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}


def empty_and_delete(api: Api, bucket: str) -> None:
    while True:
        keys = [item["key"] for item in ok(api.get(f"/buckets/{bucket}/objects/"))["results"]]
        if not keys:
            break
        for key in keys:
            api.delete(object_path(bucket, key))
    api.delete(f"/buckets/{bucket}/")


def wrap_material(parameters: dict, material: bytes, algorithm: str) -> str:
    public_key = serialization.load_der_public_key(base64.b64decode(parameters["public_key"]))
    return base64.b64encode(public_key.encrypt(material, WRAPPINGS[algorithm])).decode()


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture
def bucket(api) -> str:
    """A fresh, empty bucket in ap-guangzhou, deleted with its objects afterwards."""
    name = new_bucket(api)
    yield name
    empty_and_delete(api, name)


@pytest.fixture(scope="module")
def listed_bucket(api) -> str:
    """A bucket nobody changes: a.txt, b/1.txt, b/2.txt, c/3.txt, d.txt."""
    name = new_bucket(api)
    for key in ("a.txt", "b/1.txt", "b/2.txt", "c/3.txt", "d.txt"):
        put_object(api, name, key, key.encode())
    yield name
    empty_and_delete(api, name)


@pytest.fixture
def key_id(api, default_keys) -> str:
    """A new enabled TENCENT_KMS key in ap-guangzhou."""
    return ok(api.post("/kms/keys/", json={"alias": unique("k")}))["key_id"]


@pytest.fixture
def disabled_key_id(api, key_id) -> str:
    ok(api.post(f"/kms/keys/{key_id}/disable/"))
    return key_id


@pytest.fixture
def external_key_id(api, default_keys) -> str:
    return ok(api.post("/kms/keys/", json={"alias": unique("x"), "origin": "EXTERNAL"}))["key_id"]


@pytest.fixture(scope="module")
def reader(kinko, api) -> Api:
    """A sub-user with QcloudCOSReadOnlyAccess only."""
    return sub_user(kinko, api, ["QcloudCOSReadOnlyAccess"])[0]


@pytest.fixture(scope="module")
def nobody(kinko, api) -> Api:
    """A sub-user without any policy."""
    return sub_user(kinko, api, [])[0]


CREATE_CONSOLE_USER = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_user({username!r}, password={password!r}, is_staff=True, is_superuser=True)
"""


@pytest.fixture(scope="module")
def console(kinko) -> requests.Session:
    """A browser session signed in to the console (through the admin login form) as a new Django user."""
    username, password = unique("console"), uuid.uuid4().hex
    manage(kinko, "shell", "-c", CREATE_CONSOLE_USER.format(username=username, password=password))
    session = requests.Session()
    login = f"{kinko.url}/admin/login/"
    form = session.get(login, timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    signed_in = session.post(
        login,
        data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        timeout=10,
    )
    assert signed_in.url.endswith("/admin/"), signed_in.text
    return session


# -- authentication --------------------------------------------------------------------------------------------


def test_request_without_token_is_refused_as_not_authenticated(kinko):
    assert failure(Api(kinko).get("/buckets/")) == (401, "AuthFailure.TokenMissing")


def test_refusal_without_token_names_the_token_scheme(kinko):
    assert Api(kinko).get("/buckets/").headers["WWW-Authenticate"] == "Token"


def test_unknown_api_token_is_refused_as_invalid_token(kinko):
    assert failure(Api(kinko, "Token not-a-real-token").get("/buckets/")) == (401, "AuthFailure.InvalidToken")


def test_secret_id_with_a_wrong_secret_key_is_refused_as_invalid_token(kinko):
    assert failure(Api(kinko, f"Token {kinko.secret_id}:wrong").get("/buckets/")) == (401, "AuthFailure.InvalidToken")


def test_another_authorization_scheme_is_not_authenticated(kinko):
    response = Api(kinko, f"Bearer {kinko.api_token}").get("/buckets/")
    assert failure(response) == (401, "AuthFailure.TokenMissing")


def test_root_secret_id_and_secret_key_authenticate_as_the_account(kinko, bucket):
    response = Api(kinko, f"Token {kinko.secret_id}:{kinko.secret_key}").get(f"/buckets/{bucket}/")
    assert response.status_code == 200


def test_console_session_authenticates_a_read(kinko, console, bucket):
    response = console.get(f"{kinko.url}/api/v1/buckets/{bucket}/", timeout=10)
    assert response.status_code == 200


def test_console_session_write_without_csrf_token_is_refused(kinko, console):
    assert failure(console.post(f"{kinko.url}/api/v1/kms/activate/", timeout=10)) == (
        403,
        "AuthFailure.UnauthorizedOperation",
    )


def test_console_session_write_with_csrf_token_is_accepted(kinko, console, default_keys):
    headers = {"X-CSRFToken": console.cookies["csrftoken"]}
    response = console.post(f"{kinko.url}/api/v1/kms/activate/", headers=headers, timeout=10)
    assert response.json() == {"default_keys": default_keys}


# -- sub-users and CAM -----------------------------------------------------------------------------------------


def test_read_only_sub_user_lists_buckets(reader, listed_bucket):
    assert listed_bucket in [item["name"] for item in listed(reader, "/buckets/")]


def test_read_only_sub_user_lists_objects(reader, listed_bucket):
    response = reader.get(f"/buckets/{listed_bucket}/objects/")
    assert response.status_code == 200
    assert [item["key"] for item in response.json()["results"]] == ["a.txt", "b/1.txt", "b/2.txt", "c/3.txt", "d.txt"]


def test_read_only_sub_user_downloads_an_object(reader, listed_bucket):
    response = reader.get(object_path(listed_bucket, "a.txt"), params={"download": "1"})
    assert response.content == b"a.txt"


def test_read_only_sub_user_cannot_create_a_bucket(reader):
    response = reader.post("/buckets/", json={"name": bucket_name(), "region": REGION})
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_bucket_refused_to_a_sub_user_is_not_created(api, reader):
    name = bucket_name()
    reader.post("/buckets/", json={"name": name, "region": REGION})
    assert failure(api.get(f"/buckets/{name}/")) == (404, "NoSuchBucket")


def test_read_only_sub_user_cannot_upload_an_object(reader, listed_bucket):
    response = reader.put(object_path(listed_bucket, "new.txt"), data=b"x")
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_read_only_sub_user_cannot_delete_an_object(reader, listed_bucket):
    response = reader.delete(object_path(listed_bucket, "a.txt"))
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_read_only_sub_user_cannot_create_a_kms_key(reader, default_keys):
    response = reader.post("/kms/keys/", json={"alias": unique("k")})
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_read_only_sub_user_cannot_list_roles(reader):
    assert failure(reader.get("/cam/roles/")) == (403, "AuthFailure.UnauthorizedOperation")


def test_read_only_sub_user_cannot_create_sub_users(reader):
    response = reader.post("/cam/users/", json={"name": unique("u")})
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_sub_user_without_policies_cannot_list_buckets(nobody):
    assert failure(nobody.get("/buckets/")) == (403, "AuthFailure.UnauthorizedOperation")


def test_sub_user_without_policies_cannot_read_an_object(nobody, listed_bucket):
    response = nobody.get(object_path(listed_bucket, "a.txt"))
    assert failure(response) == (403, "AuthFailure.UnauthorizedOperation")


def test_refusal_body_is_exactly_code_and_detail(nobody):
    assert set(nobody.get("/buckets/").json()) == {"code", "detail"}


# -- buckets ---------------------------------------------------------------------------------------------------


def test_list_buckets_includes_a_created_bucket(api, bucket):
    assert bucket in [item["name"] for item in listed(api, "/buckets/")]


def test_list_buckets_of_a_region_leaves_out_other_regions(api, bucket):
    names = [item["name"] for item in listed(api, "/buckets/", region="ap-shanghai")]
    assert bucket not in names


def test_list_buckets_of_its_region_includes_it(api, bucket):
    names = [item["name"] for item in listed(api, "/buckets/", region=REGION)]
    assert bucket in names


def test_create_bucket_answers_201_with_the_bucket(api):
    name = bucket_name()
    response = api.post("/buckets/", json={"name": name, "region": REGION, "acl": "private", "encryption": None})
    body = response.json()
    api.delete(f"/buckets/{name}/")
    assert response.status_code == 201
    assert {key: body[key] for key in ("name", "region", "owner_appid", "acl", "encryption")} == {
        "name": name,
        "region": REGION,
        "owner_appid": APPID,
        "acl": "private",
        "encryption": None,
    }


def test_create_bucket_with_public_read_acl_reports_it(api):
    name = bucket_name()
    body = api.post("/buckets/", json={"name": name, "region": REGION, "acl": "public-read"}).json()
    api.delete(f"/buckets/{name}/")
    assert body["acl"] == "public-read"


def test_create_bucket_with_aes256_encryption(api):
    name = bucket_name()
    body = api.post("/buckets/", json={"name": name, "region": REGION, "encryption": {"algorithm": "AES256"}}).json()
    api.delete(f"/buckets/{name}/")
    assert body["encryption"] == {"sse": "AES256", "kms_key_id": None, "algorithm": "AES256"}


def test_create_bucket_with_kms_encryption_uses_the_regions_default_key(api, default_keys):
    name = bucket_name()
    encryption = {"algorithm": "KMS", "kms_key_id": None}
    body = api.post("/buckets/", json={"name": name, "region": REGION, "encryption": encryption}).json()
    api.delete(f"/buckets/{name}/")
    assert body["encryption"] == {"sse": "cos/kms", "kms_key_id": default_keys[REGION], "algorithm": "KMS"}


def test_create_bucket_with_kms_encryption_and_a_key_id_uses_that_key(api, key_id):
    name = bucket_name()
    encryption = {"algorithm": "KMS", "kms_key_id": key_id}
    body = api.post("/buckets/", json={"name": name, "region": REGION, "encryption": encryption}).json()
    api.delete(f"/buckets/{name}/")
    assert body["encryption"] == {"sse": "cos/kms", "kms_key_id": key_id, "algorithm": "KMS"}


def test_create_bucket_with_an_unknown_kms_key_is_refused(api, default_keys):
    name = bucket_name()
    encryption = {"algorithm": "KMS", "kms_key_id": str(uuid.uuid4())}
    response = api.post("/buckets/", json={"name": name, "region": REGION, "encryption": encryption})
    api.delete(f"/buckets/{name}/")
    assert failure(response) == (400, "KmsKeyNotExist")


def test_refused_bucket_creation_leaves_no_bucket_behind(api, default_keys):
    name = bucket_name()
    encryption = {"algorithm": "KMS", "kms_key_id": str(uuid.uuid4())}
    api.post("/buckets/", json={"name": name, "region": REGION, "encryption": encryption})
    found = api.get(f"/buckets/{name}/")
    api.delete(f"/buckets/{name}/")
    assert failure(found) == (404, "NoSuchBucket")


def test_create_bucket_with_kms_encryption_where_kms_is_not_offered_is_refused(api, default_keys):
    name = bucket_name()
    encryption = {"algorithm": "KMS", "kms_key_id": None}
    response = api.post("/buckets/", json={"name": name, "region": NO_KMS_REGION, "encryption": encryption})
    api.delete(f"/buckets/{name}/")
    assert failure(response) == (400, "InvalidArgument")


def test_create_bucket_without_a_name_is_a_validation_error(api):
    response = api.post("/buckets/", json={"region": REGION})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["name"]


def test_validation_error_body_is_exactly_code_detail_and_fields(api):
    assert set(api.post("/buckets/", json={"region": REGION}).json()) == {"code", "detail", "fields"}


def test_create_bucket_with_an_unknown_acl_is_a_validation_error(api):
    response = api.post("/buckets/", json={"name": bucket_name(), "region": REGION, "acl": "everyone"})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["acl"]


def test_create_bucket_with_an_unknown_encryption_algorithm_is_a_validation_error(api):
    body = {"name": bucket_name(), "region": REGION, "encryption": {"algorithm": "SSE-C"}}
    response = api.post("/buckets/", json=body)
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["encryption.algorithm"]


def test_create_bucket_with_a_name_lacking_the_appid_is_refused(api):
    assert failure(api.post("/buckets/", json={"name": unique("noappid"), "region": REGION})) == (
        400,
        "InvalidBucketName",
    )


def test_create_bucket_in_a_region_not_served_is_refused(api):
    response = api.post("/buckets/", json={"name": bucket_name(), "region": "mars-1"})
    assert failure(response) == (400, "InvalidArgument")


def test_create_existing_bucket_is_a_conflict(api, bucket):
    response = api.post("/buckets/", json={"name": bucket, "region": REGION})
    assert failure(response) == (409, "BucketAlreadyOwnedByYou")


def test_malformed_json_is_a_parse_error(api):
    response = api.post("/buckets/", data=b"{not json", headers={"Content-Type": "application/json"})
    assert failure(response) == (400, "InvalidParameter")


def test_get_bucket_returns_it(api, bucket):
    response = api.get(f"/buckets/{bucket}/")
    assert response.status_code == 200
    assert response.json()["name"] == bucket


def test_get_unknown_bucket_is_no_such_bucket(api):
    assert failure(api.get(f"/buckets/{bucket_name()}/")) == (404, "NoSuchBucket")


def test_bucket_of_another_account_is_no_such_bucket(kinko, api):
    other = other_account(kinko)
    name = f"{unique('o')}-{other.appid}"
    client = other.client(kinko)
    client.create_bucket(Bucket=name)
    response = api.get(f"/buckets/{name}/")
    client.delete_bucket(Bucket=name)
    assert failure(response) == (404, "NoSuchBucket")


def test_delete_empty_bucket_answers_204(api):
    name = new_bucket(api)
    assert api.delete(f"/buckets/{name}/").status_code == 204


def test_deleted_bucket_is_gone(api):
    name = new_bucket(api)
    api.delete(f"/buckets/{name}/")
    assert failure(api.get(f"/buckets/{name}/")) == (404, "NoSuchBucket")


def test_delete_non_empty_bucket_is_refused_as_bucket_not_empty(api, bucket):
    put_object(api, bucket, "keep.txt", b"keep")
    assert failure(api.delete(f"/buckets/{bucket}/")) == (409, "BucketNotEmpty")


def test_refused_bucket_deletion_keeps_the_bucket_and_its_objects(api, bucket):
    put_object(api, bucket, "keep.txt", b"keep")
    api.delete(f"/buckets/{bucket}/")
    assert api.get(object_path(bucket, "keep.txt"), params={"download": "1"}).content == b"keep"


def test_delete_unknown_bucket_is_no_such_bucket(api):
    assert failure(api.delete(f"/buckets/{bucket_name()}/")) == (404, "NoSuchBucket")


# -- bucket encryption -----------------------------------------------------------------------------------------


def test_bucket_without_default_encryption_has_no_encryption_configuration(api, bucket):
    assert failure(api.get(f"/buckets/{bucket}/encryption/")) == (404, "NoSuchEncryptionConfiguration")


def test_put_bucket_encryption_aes256_answers_it(api, bucket):
    response = api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "AES256"})
    assert response.status_code == 200
    assert response.json() == {"sse": "AES256", "kms_key_id": None, "algorithm": "AES256"}


def test_bucket_encryption_reads_back_what_was_put(api, bucket, key_id):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "KMS", "kms_key_id": key_id})
    assert api.get(f"/buckets/{bucket}/encryption/").json() == {
        "sse": "cos/kms",
        "kms_key_id": key_id,
        "algorithm": "KMS",
    }


def test_put_bucket_encryption_kms_without_a_key_uses_the_regions_default_key(api, bucket, default_keys):
    response = api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "KMS", "kms_key_id": None})
    assert response.json() == {"sse": "cos/kms", "kms_key_id": default_keys[REGION], "algorithm": "KMS"}


def test_bucket_detail_shows_its_default_encryption(api, bucket):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "AES256"})
    assert api.get(f"/buckets/{bucket}/").json()["encryption"] == {
        "sse": "AES256",
        "kms_key_id": None,
        "algorithm": "AES256",
    }


def test_put_bucket_encryption_with_an_unknown_algorithm_is_a_validation_error(api, bucket):
    response = api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "DES"})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["algorithm"]


def test_put_bucket_encryption_with_an_unknown_kms_key_is_refused(api, bucket, default_keys):
    response = api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "KMS", "kms_key_id": str(uuid.uuid4())})
    assert failure(response) == (400, "KmsKeyNotExist")


def test_delete_bucket_encryption_answers_204(api, bucket):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "AES256"})
    assert api.delete(f"/buckets/{bucket}/encryption/").status_code == 204


def test_deleted_bucket_encryption_is_gone(api, bucket):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "AES256"})
    api.delete(f"/buckets/{bucket}/encryption/")
    assert failure(api.get(f"/buckets/{bucket}/encryption/")) == (404, "NoSuchEncryptionConfiguration")


def test_encryption_of_an_unknown_bucket_is_no_such_bucket(api):
    assert failure(api.get(f"/buckets/{bucket_name()}/encryption/")) == (404, "NoSuchBucket")


# -- objects ---------------------------------------------------------------------------------------------------


def test_put_object_answers_201_with_the_stored_object(api, bucket):
    response = api.put(object_path(bucket, "hello.txt"), data=b"hello", headers={"Content-Type": "text/plain"})
    body = response.json()
    assert response.status_code == 201
    assert {key: body[key] for key in ("key", "size", "etag", "content_type", "encryption", "kms_key_id")} == {
        "key": "hello.txt",
        "size": 5,
        "etag": hashlib.md5(b"hello").hexdigest(),
        "content_type": "text/plain",
        "encryption": "none",
        "kms_key_id": None,
    }


def test_put_object_with_sse_aes256_is_sse_cos(api, bucket):
    assert put_object(api, bucket, "cos.bin", b"x", sse="AES256")["encryption"] == "SSE-COS"


def test_put_object_with_sse_kms_uses_the_regions_default_key(api, bucket, default_keys):
    body = put_object(api, bucket, "kms.bin", b"x", sse="cos/kms")
    assert (body["encryption"], body["kms_key_id"]) == ("SSE-KMS", default_keys[REGION])


def test_put_object_with_sse_kms_and_a_key_id_uses_that_key(api, bucket, key_id):
    body = put_object(api, bucket, "kms.bin", b"x", sse="cos/kms", kms_key_id=key_id)
    assert (body["encryption"], body["kms_key_id"]) == ("SSE-KMS", key_id)


def test_put_object_with_sse_kms_under_a_disabled_key_is_refused(api, bucket, disabled_key_id):
    response = api.put(
        object_path(bucket, "k.bin"), data=b"x", params={"sse": "cos/kms", "kms_key_id": disabled_key_id}
    )
    assert failure(response) == (400, "KmsKeyDisabled")


def test_put_object_with_sse_c_is_refused(api, bucket):
    response = api.put(object_path(bucket, "c.bin"), data=b"x", params={"sse": "SSE-C"})
    assert failure(response) == (400, "InvalidArgument")


def test_put_object_into_a_bucket_with_default_encryption_is_encrypted_by_default(api, bucket):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "AES256"})
    assert put_object(api, bucket, "default.bin", b"x")["encryption"] == "SSE-COS"


def test_put_object_without_content_length_is_refused(api, bucket):
    chunks = iter([b"abc", b"def"])
    assert failure(api.put(object_path(bucket, "chunked.bin"), data=chunks)) == (411, "MissingContentLength")


def test_put_object_into_an_unknown_bucket_is_no_such_bucket(api):
    assert failure(api.put(object_path(bucket_name(), "a.txt"), data=b"x")) == (404, "NoSuchBucket")


def test_get_object_answers_its_metadata(api, bucket):
    put_object(api, bucket, "dir/meta.txt", b"metadata", sse="AES256")
    body = api.get(object_path(bucket, "dir/meta.txt")).json()
    assert (body["key"], body["size"], body["etag"], body["encryption"]) == (
        "dir/meta.txt",
        8,
        hashlib.md5(b"metadata").hexdigest(),
        "SSE-COS",
    )


def test_get_unknown_object_is_no_such_key(api, bucket):
    assert failure(api.get(object_path(bucket, "missing.txt"))) == (404, "NoSuchKey")


def test_download_streams_back_the_exact_bytes_of_a_3_mib_object(api, bucket):
    data = os.urandom(3 * MiB + 17)
    put_object(api, bucket, "big/blob.bin", data)
    with api.get(object_path(bucket, "big/blob.bin"), params={"download": "1"}, stream=True) as response:
        received = b"".join(response.iter_content(64 * 1024))
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(data).hexdigest()


def test_download_announces_length_and_attachment_filename(api, bucket):
    put_object(api, bucket, "dir/report.csv", b"a,b\n")
    response = api.get(object_path(bucket, "dir/report.csv"), params={"download": "1"})
    assert response.headers["Content-Length"] == "4"
    assert response.headers["Content-Disposition"] == "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv"


def test_download_of_an_sse_kms_object_decrypts_it(api, bucket, key_id):
    data = os.urandom(100_000)
    put_object(api, bucket, "kms.bin", data, sse="cos/kms", kms_key_id=key_id)
    assert api.get(object_path(bucket, "kms.bin"), params={"download": "1"}).content == data


def test_download_of_an_sse_c_object_is_refused_without_its_key(kinko, api, bucket):
    cos_client(kinko).put_object(Bucket=bucket, Key="ssec.bin", Body=b"customer data", **SSE_C)
    response = api.get(object_path(bucket, "ssec.bin"), params={"download": "1"})
    assert failure(response) == (400, "InvalidArgument")


def test_object_detail_lists_the_tags_cos_set(kinko, api, bucket):
    cos_client(kinko).put_object(Bucket=bucket, Key="tagged.txt", Body=b"x", Tagging="team=kinko&stage=prod")
    assert ok(api.get(object_path(bucket, "tagged.txt")))["tags"] == {"team": "kinko", "stage": "prod"}


def test_delete_object_answers_204(api, bucket):
    put_object(api, bucket, "gone.txt", b"x")
    assert api.delete(object_path(bucket, "gone.txt")).status_code == 204


def test_deleted_object_is_gone(api, bucket):
    put_object(api, bucket, "gone.txt", b"x")
    api.delete(object_path(bucket, "gone.txt"))
    assert failure(api.get(object_path(bucket, "gone.txt"))) == (404, "NoSuchKey")


def test_delete_of_a_missing_object_answers_204(api, bucket):
    assert api.delete(object_path(bucket, "never-there.txt")).status_code == 204


def test_list_objects_lists_every_key_in_order(api, listed_bucket):
    body = api.get(f"/buckets/{listed_bucket}/objects/").json()
    assert [item["key"] for item in body["results"]] == ["a.txt", "b/1.txt", "b/2.txt", "c/3.txt", "d.txt"]
    assert (body["common_prefixes"], body["is_truncated"], body["next_marker"]) == ([], False, None)


def test_list_objects_with_a_prefix_lists_only_its_keys(api, listed_bucket):
    body = api.get(f"/buckets/{listed_bucket}/objects/", params={"prefix": "b/"}).json()
    assert [item["key"] for item in body["results"]] == ["b/1.txt", "b/2.txt"]


def test_list_objects_with_a_delimiter_groups_common_prefixes(api, listed_bucket):
    body = api.get(f"/buckets/{listed_bucket}/objects/", params={"delimiter": "/"}).json()
    assert [item["key"] for item in body["results"]] == ["a.txt", "d.txt"]
    assert body["common_prefixes"] == ["b/", "c/"]


def test_list_objects_with_max_keys_truncates_and_names_the_next_marker(api, listed_bucket):
    body = api.get(f"/buckets/{listed_bucket}/objects/", params={"max_keys": "2"}).json()
    assert [item["key"] for item in body["results"]] == ["a.txt", "b/1.txt"]
    assert (body["is_truncated"], body["next_marker"]) == (True, "b/1.txt")


def test_list_objects_from_a_marker_continues_after_it(api, listed_bucket):
    body = api.get(f"/buckets/{listed_bucket}/objects/", params={"marker": "b/1.txt"}).json()
    assert [item["key"] for item in body["results"]] == ["b/2.txt", "c/3.txt", "d.txt"]


@pytest.mark.parametrize("max_keys", ["0", "1001", "-1", "abc", "1.5", ""])
def test_list_objects_with_bad_max_keys_is_invalid_argument(api, listed_bucket, max_keys):
    response = api.get(f"/buckets/{listed_bucket}/objects/", params={"max_keys": max_keys})
    assert failure(response) == (400, "InvalidArgument")


def test_list_objects_of_an_unknown_bucket_is_no_such_bucket(api):
    assert failure(api.get(f"/buckets/{bucket_name()}/objects/")) == (404, "NoSuchBucket")


# -- encryption jobs -------------------------------------------------------------------------------------------


@dataclass
class RunJob:
    bucket: str
    started: requests.Response
    finished: dict


@pytest.fixture(scope="module")
def encryption_job(kinko, api, default_keys) -> RunJob:
    """A job re-encrypting a bucket to SSE-KMS (two plain objects, one SSE-C object), run by a real Celery worker
    on the embedded filesystem broker (the session server runs without one) and stopped once the job finished."""
    name = new_bucket(api)
    put_object(api, name, "plain.txt", b"plain")
    put_object(api, name, "cos.txt", b"sse-cos", sse="AES256")
    cos_client(kinko).put_object(Bucket=name, Key="ssec.bin", Body=b"customer data", **SSE_C)
    worker = Worker("filesystem://", kinko.data_dir, {})
    try:
        started = api.post(
            f"/buckets/{name}/encryption-jobs/", json={"prefix": "", "sse": "cos/kms", "kms_key_id": None}
        )
        finished = wait_for_job(api, started.json()["id"])
    finally:
        worker.stop()
    yield RunJob(name, started, finished)
    empty_and_delete(api, name)


def test_start_encryption_job_answers_202(encryption_job):
    assert encryption_job.started.status_code == 202


def test_started_job_has_the_documented_fields(encryption_job):
    assert JOB_FIELDS <= set(encryption_job.started.json())


def test_started_job_is_queued_with_every_object_to_do(encryption_job):
    job = encryption_job.started.json()
    assert (job["kind"], job["status"], job["total"], job["done"]) == ("encrypt_objects", "queued", 3, 0)


def test_encryption_job_run_by_a_worker_succeeds(encryption_job):
    assert encryption_job.finished["status"] == "succeeded", encryption_job.finished


def test_encryption_job_counts_done_failed_and_skipped(encryption_job):
    job = encryption_job.finished
    assert (job["total"], job["done"], job["failed"], job["skipped"]) == (3, 2, 0, 1)


def test_encryption_job_lists_the_sse_c_object_in_its_errors(encryption_job):
    assert [error["key"] for error in encryption_job.finished["errors"]] == ["ssec.bin"]


def test_encryption_job_errors_carry_a_reason(encryption_job):
    assert all(set(error) == {"key", "reason"} and error["reason"] for error in encryption_job.finished["errors"])


def test_encryption_job_re_encrypts_objects_under_the_target_key(api, encryption_job, default_keys):
    objects = ok(api.get(f"/buckets/{encryption_job.bucket}/objects/"))["results"]
    assert {item["key"]: (item["encryption"], item["kms_key_id"]) for item in objects} == {
        "cos.txt": ("SSE-KMS", default_keys[REGION]),
        "plain.txt": ("SSE-KMS", default_keys[REGION]),
        "ssec.bin": ("SSE-C", None),
    }


def test_re_encrypted_object_downloads_unchanged(api, encryption_job):
    assert api.get(object_path(encryption_job.bucket, "cos.txt"), params={"download": "1"}).content == b"sse-cos"


def test_encryption_jobs_of_a_bucket_list_its_job(api, encryption_job):
    jobs = ok(api.get(f"/buckets/{encryption_job.bucket}/encryption-jobs/"))["results"]
    assert [job["id"] for job in jobs] == [encryption_job.finished["id"]]


def test_cancelling_a_finished_job_leaves_it_succeeded(api, encryption_job):
    response = api.post(f"/jobs/{encryption_job.finished['id']}/cancel/")
    assert response.json()["status"] == "succeeded"


def test_cancelling_a_queued_job_answers_it_cancelled(api, listed_bucket):
    # No worker runs outside the encryption_job fixture, so the job is still queued when it is cancelled.
    job = ok(api.post(f"/buckets/{listed_bucket}/encryption-jobs/", json={"sse": "AES256"}))
    response = api.post(f"/jobs/{job['id']}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancelled_job_reads_back_cancelled(api, listed_bucket):
    job = ok(api.post(f"/buckets/{listed_bucket}/encryption-jobs/", json={"sse": "AES256"}))
    api.post(f"/jobs/{job['id']}/cancel/")
    assert api.get(f"/jobs/{job['id']}/").json()["status"] == "cancelled"


def test_start_encryption_job_without_sse_is_a_validation_error(api, listed_bucket):
    response = api.post(f"/buckets/{listed_bucket}/encryption-jobs/", json={"prefix": ""})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["sse"]


def test_start_encryption_job_to_sse_c_is_a_validation_error(api, listed_bucket):
    response = api.post(f"/buckets/{listed_bucket}/encryption-jobs/", json={"sse": "SSE-C"})
    assert failure(response) == (400, "InvalidParameter")


def test_start_encryption_job_to_aes256_with_a_kms_key_is_refused(api, listed_bucket, key_id):
    response = api.post(f"/buckets/{listed_bucket}/encryption-jobs/", json={"sse": "AES256", "kms_key_id": key_id})
    assert failure(response) == (400, "InvalidArgument")


def test_start_encryption_job_on_an_unknown_bucket_is_no_such_bucket(api):
    response = api.post(f"/buckets/{bucket_name()}/encryption-jobs/", json={"sse": "AES256"})
    assert failure(response) == (404, "NoSuchBucket")


def test_unknown_job_is_not_found(api):
    assert failure(api.get(f"/jobs/{uuid.uuid4()}/")) == (404, "NotFound")


def test_cancelling_an_unknown_job_is_not_found(api):
    assert failure(api.post(f"/jobs/{uuid.uuid4()}/cancel/")) == (404, "NotFound")


# -- KMS -------------------------------------------------------------------------------------------------------


def test_kms_status_reports_the_activated_service(api, default_keys):
    body = api.get("/kms/").json()
    assert (body["activated"], body["key_limit"]) == (True, 200)


def test_kms_status_counts_a_created_key(api, default_keys):
    before = api.get("/kms/").json()["key_count"]
    ok(api.post("/kms/keys/", json={"alias": unique("k")}))
    assert api.get("/kms/").json()["key_count"] == before + 1


def test_activate_kms_answers_a_default_key_for_every_kms_region(default_keys):
    assert set(default_keys) == KMS_REGIONS


def test_activate_kms_is_idempotent(api, default_keys):
    assert api.post("/kms/activate/").json() == {"default_keys": default_keys}


def test_activate_kms_answers_the_same_keys_as_the_command(kinko, default_keys):
    assert json.loads(manage(kinko, "activate_kms", "--json"))["DefaultKeys"] == default_keys


def test_default_key_is_listed_as_the_cos_default(api, default_keys):
    keys = {key["key_id"]: key for key in listed(api, "/kms/keys/")}
    default = keys[default_keys[REGION]]
    assert (default["is_default"], default["owner"]) == (True, "cos")


def test_list_keys_includes_a_created_key(api, key_id):
    assert key_id in [key["key_id"] for key in listed(api, "/kms/keys/")]


def test_list_keys_of_a_region_lists_only_that_region(api, default_keys):
    keys = listed(api, "/kms/keys/", region="ap-shanghai")
    assert {key["region"] for key in keys} == {"ap-shanghai"}
    assert default_keys["ap-shanghai"] in [key["key_id"] for key in keys]


def test_create_key_answers_201_with_an_enabled_key(api, default_keys):
    alias = unique("k")
    response = api.post("/kms/keys/", json={"alias": alias, "description": "for a test"})
    body = response.json()
    assert response.status_code == 201
    assert (body["alias"], body["description"], body["state"], body["origin"], body["region"]) == (
        alias,
        "for a test",
        "Enabled",
        "TENCENT_KMS",
        REGION,
    )


def test_create_external_key_waits_for_its_material(api, default_keys):
    body = api.post("/kms/keys/", json={"alias": unique("x"), "origin": "EXTERNAL"}).json()
    assert (body["state"], body["origin"]) == ("PendingImport", "EXTERNAL")


def test_create_key_in_another_kms_region(api, default_keys):
    body = api.post("/kms/keys/", json={"alias": unique("k"), "region": "ap-beijing"}).json()
    assert body["region"] == "ap-beijing"


def test_create_key_with_an_alias_in_use_is_refused(api, key_id):
    alias = api.get(f"/kms/keys/{key_id}/").json()["alias"]
    response = api.post("/kms/keys/", json={"alias": alias})
    assert failure(response) == (400, "InvalidParameterValue.AliasAlreadyExists")


def test_create_key_without_an_alias_is_a_validation_error(api, default_keys):
    response = api.post("/kms/keys/", json={"description": "no alias"})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["alias"]


def test_create_key_with_an_invalid_alias_is_refused(api, default_keys):
    response = api.post("/kms/keys/", json={"alias": "kms-reserved"})
    assert failure(response) == (400, "InvalidParameterValue.InvalidAlias")


def test_create_key_with_an_unknown_origin_is_a_validation_error(api, default_keys):
    response = api.post("/kms/keys/", json={"alias": unique("k"), "origin": "AWS"})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["origin"]


def test_create_key_where_kms_is_not_offered_is_refused(api, default_keys):
    response = api.post("/kms/keys/", json={"alias": unique("k"), "region": NO_KMS_REGION})
    assert failure(response) == (400, "UnsupportedRegion")


def test_get_key_returns_it(api, key_id):
    response = api.get(f"/kms/keys/{key_id}/")
    assert response.status_code == 200
    assert response.json()["key_id"] == key_id


def test_get_unknown_key_is_cmk_not_found(api, default_keys):
    assert failure(api.get(f"/kms/keys/{uuid.uuid4()}/")) == (404, "ResourceUnavailable.CmkNotFound")


def test_get_key_with_a_malformed_id_is_invalid_key_id(api, default_keys):
    assert failure(api.get("/kms/keys/not-a-key-id/")) == (400, "InvalidParameterValue.InvalidKeyId")


def test_patch_key_changes_alias_and_description(api, key_id):
    alias = unique("renamed")
    body = api.patch(f"/kms/keys/{key_id}/", json={"alias": alias, "description": "new words"}).json()
    assert (body["alias"], body["description"]) == (alias, "new words")


def test_patched_key_reads_back_changed(api, key_id):
    alias = unique("renamed")
    api.patch(f"/kms/keys/{key_id}/", json={"alias": alias})
    assert api.get(f"/kms/keys/{key_id}/").json()["alias"] == alias


def test_patch_key_enables_rotation_with_a_period(api, key_id):
    body = api.patch(f"/kms/keys/{key_id}/", json={"rotation_enabled": True, "rotate_days": 30}).json()
    assert (body["rotation_enabled"], body["rotate_days"]) == (True, 30)


def test_patch_key_disables_rotation(api, key_id):
    api.patch(f"/kms/keys/{key_id}/", json={"rotation_enabled": True})
    assert api.patch(f"/kms/keys/{key_id}/", json={"rotation_enabled": False}).json()["rotation_enabled"] is False


def test_patch_key_with_a_rotation_period_under_7_days_is_a_validation_error(api, key_id):
    response = api.patch(f"/kms/keys/{key_id}/", json={"rotation_enabled": True, "rotate_days": 6})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["rotate_days"]


def test_patch_unknown_key_is_cmk_not_found(api, default_keys):
    response = api.patch(f"/kms/keys/{uuid.uuid4()}/", json={"description": "x"})
    assert failure(response) == (404, "ResourceUnavailable.CmkNotFound")


def test_disable_key_disables_it(api, key_id):
    assert api.post(f"/kms/keys/{key_id}/disable/").json()["state"] == "Disabled"


def test_enable_key_enables_a_disabled_key(api, disabled_key_id):
    assert api.post(f"/kms/keys/{disabled_key_id}/enable/").json()["state"] == "Enabled"


def test_rotate_key_with_rotation_enabled_records_the_rotation(api, key_id):
    api.patch(f"/kms/keys/{key_id}/", json={"rotation_enabled": True})
    assert api.post(f"/kms/keys/{key_id}/rotate/").json()["last_rotated_at"] is not None


def test_rotate_key_without_rotation_enabled_is_refused(api, key_id):
    assert failure(api.post(f"/kms/keys/{key_id}/rotate/")) == (400, "UnsupportedOperation.RotateNotSupported")


def test_archive_key_archives_it(api, key_id):
    assert api.post(f"/kms/keys/{key_id}/archive/").json()["state"] == "Archived"


def test_cancel_archive_enables_an_archived_key(api, key_id):
    api.post(f"/kms/keys/{key_id}/archive/")
    assert api.post(f"/kms/keys/{key_id}/cancel-archive/").json()["state"] == "Enabled"


def test_unknown_key_action_is_not_found(api, key_id):
    assert failure(api.post(f"/kms/keys/{key_id}/explode/")) == (404, "NotFound")


def test_schedule_deletion_of_an_enabled_key_is_refused(api, key_id):
    response = api.post(f"/kms/keys/{key_id}/schedule-deletion/", json={"pending_window_in_days": 7})
    assert failure(response) == (400, "ResourceUnavailable.CmkShouldBeDisabled")


@pytest.mark.parametrize("days", [7, 30])
def test_schedule_deletion_of_a_disabled_key_sets_its_deletion_date(api, disabled_key_id, days):
    body = api.post(f"/kms/keys/{disabled_key_id}/schedule-deletion/", json={"pending_window_in_days": days}).json()
    deletion = datetime.datetime.fromisoformat(body["deletion_date"])
    now = datetime.datetime.now(datetime.UTC)
    assert body["state"] == "PendingDelete"
    assert now + datetime.timedelta(days=days - 1) < deletion <= now + datetime.timedelta(days=days + 1)


@pytest.mark.parametrize("days", [6, 31])
def test_schedule_deletion_outside_7_to_30_days_is_a_validation_error(api, disabled_key_id, days):
    response = api.post(f"/kms/keys/{disabled_key_id}/schedule-deletion/", json={"pending_window_in_days": days})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["pending_window_in_days"]


def test_cancel_deletion_returns_the_key_to_disabled(api, disabled_key_id):
    api.post(f"/kms/keys/{disabled_key_id}/schedule-deletion/", json={"pending_window_in_days": 7})
    body = api.post(f"/kms/keys/{disabled_key_id}/cancel-deletion/").json()
    assert (body["state"], body["deletion_date"]) == ("Disabled", None)


def test_key_impact_counts_objects_and_bytes_encrypted_under_it(api, bucket, key_id):
    put_object(api, bucket, "one.bin", b"1" * 10, sse="cos/kms", kms_key_id=key_id)
    put_object(api, bucket, "two.bin", b"2" * 20, sse="cos/kms", kms_key_id=key_id)
    body = api.get(f"/kms/keys/{key_id}/impact/").json()
    assert (body["objects"], body["bytes"]) == (2, 30)


def test_key_impact_lists_buckets_encrypting_with_it_by_default(api, bucket, key_id):
    api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "KMS", "kms_key_id": key_id})
    assert api.get(f"/kms/keys/{key_id}/impact/").json()["bucket_defaults"] == [bucket]


def test_key_impact_of_an_unused_key_is_nothing(api, key_id):
    body = api.get(f"/kms/keys/{key_id}/impact/").json()
    assert body == {"objects": 0, "versions": 0, "bytes": 0, "bucket_defaults": []}


def test_import_parameters_answer_a_token_and_an_rsa_2048_public_key(api, external_key_id):
    body = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    ).json()
    public_key = serialization.load_der_public_key(base64.b64decode(body["public_key"]))
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048
    assert body["import_token"]


def test_import_parameters_without_an_algorithm_is_a_validation_error(api, external_key_id):
    response = api.post(f"/kms/keys/{external_key_id}/import-parameters/", json={})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["wrapping_algorithm"]


def test_import_parameters_for_a_kms_generated_key_are_refused(api, key_id):
    response = api.post(f"/kms/keys/{key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"})
    assert failure(response) == (400, "UnsupportedOperation.NotExternalCmk")


@pytest.mark.parametrize("algorithm", sorted(WRAPPINGS))
def test_importing_wrapped_material_enables_an_external_key(api, external_key_id, algorithm):
    parameters = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": algorithm}
    ).json()
    material = wrap_material(parameters, os.urandom(32), algorithm)
    response = api.post(
        f"/kms/keys/{external_key_id}/import/",
        json={"import_token": parameters["import_token"], "encrypted_key_material": material},
    )
    assert response.status_code == 200
    assert response.json()["state"] == "Enabled"


def test_imported_key_encrypts_objects(api, bucket, external_key_id):
    parameters = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    ).json()
    material = wrap_material(parameters, os.urandom(32), "RSAES_OAEP_SHA_256")
    api.post(
        f"/kms/keys/{external_key_id}/import/",
        json={"import_token": parameters["import_token"], "encrypted_key_material": material},
    )
    put_object(api, bucket, "imported.bin", b"under imported material", sse="cos/kms", kms_key_id=external_key_id)
    response = api.get(object_path(bucket, "imported.bin"), params={"download": "1"})
    assert response.content == b"under imported material"


def test_importing_material_that_does_not_unwrap_is_refused(api, external_key_id):
    parameters = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    ).json()
    response = api.post(
        f"/kms/keys/{external_key_id}/import/",
        json={"import_token": parameters["import_token"], "encrypted_key_material": base64.b64encode(b"junk").decode()},
    )
    assert failure(response) == (400, "InvalidParameter.DecryptMaterialError")


def test_importing_with_an_unknown_token_is_refused(api, external_key_id):
    parameters = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    ).json()
    material = wrap_material(parameters, os.urandom(32), "RSAES_OAEP_SHA_256")
    response = api.post(
        f"/kms/keys/{external_key_id}/import/",
        json={"import_token": "0" * 64, "encrypted_key_material": material},
    )
    assert failure(response) == (400, "ResourceUnavailable.TokenExpired")


def test_import_without_material_is_a_validation_error(api, external_key_id):
    response = api.post(f"/kms/keys/{external_key_id}/import/", json={"import_token": "0" * 64})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["encrypted_key_material"]


def test_delete_imported_material_returns_the_key_to_pending_import(api, external_key_id):
    parameters = api.post(
        f"/kms/keys/{external_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    ).json()
    material = wrap_material(parameters, os.urandom(32), "RSAES_OAEP_SHA_256")
    api.post(
        f"/kms/keys/{external_key_id}/import/",
        json={"import_token": parameters["import_token"], "encrypted_key_material": material},
    )
    assert api.post(f"/kms/keys/{external_key_id}/delete-imported-material/").json()["state"] == "PendingImport"


def test_key_usage_counts_cryptographic_calls_by_month(api, bucket, key_id):
    put_object(api, bucket, "used.bin", b"x", sse="cos/kms", kms_key_id=key_id)
    api.get(object_path(bucket, "used.bin"), params={"download": "1"})
    usage = api.get(f"/kms/keys/{key_id}/usage/").json()
    assert [re.fullmatch(r"\d{4}-\d{2}", month) is not None for month in usage] == [True]
    assert sum(usage.values()) == 2


def test_key_usage_of_an_unused_key_is_empty(api, key_id):
    assert api.get(f"/kms/keys/{key_id}/usage/").json() == {}


def test_key_audit_records_the_api_callers_actions(kinko, api, key_id):
    api.post(f"/kms/keys/{key_id}/disable/")
    events = ok(api.get(f"/kms/keys/{key_id}/audit/"))["results"]
    assert [(event["action"], event["actor"]) for event in events] == [
        ("DisableKey", f"jsonapi:{kinko.secret_id}"),
        ("CreateKey", f"jsonapi:{kinko.secret_id}"),
    ]


def test_key_audit_records_cos_using_the_key(api, bucket, key_id):
    put_object(api, bucket, "audited.bin", b"x", sse="cos/kms", kms_key_id=key_id)
    events = ok(api.get(f"/kms/keys/{key_id}/audit/"))["results"]
    assert ("GenerateDataKey", "cos:COS_QcsRole") in [(event["action"], event["actor"]) for event in events]


# -- CAM -------------------------------------------------------------------------------------------------------


@pytest.fixture
def role(api) -> str:
    name = unique("role")
    ok(api.post("/cam/roles/", json={"name": name, "trust_policy": TRUST_POLICY}))
    yield name
    api.delete(f"/cam/roles/{name}/")


def test_list_roles_includes_a_created_role(api, role):
    assert role in [item["name"] for item in listed(api, "/cam/roles/")]


def test_create_role_answers_201_with_its_policies(api):
    name = unique("role")
    response = api.post(
        "/cam/roles/",
        json={"name": name, "trust_policy": TRUST_POLICY, "description": "d", "policies": ["QcloudCOSReadOnlyAccess"]},
    )
    api.delete(f"/cam/roles/{name}/")
    body = response.json()
    assert response.status_code == 201
    assert (body["name"], body["description"], body["policies"]) == (name, "d", ["QcloudCOSReadOnlyAccess"])


def test_create_role_with_a_name_in_use_is_refused(api, role):
    response = api.post("/cam/roles/", json={"name": role, "trust_policy": TRUST_POLICY})
    assert failure(response) == (400, "InvalidParameter.RoleNameInUse")


def test_create_role_with_a_trust_policy_that_is_not_json_is_refused(api):
    response = api.post("/cam/roles/", json={"name": unique("role"), "trust_policy": "{not json"})
    assert failure(response) == (400, "InvalidParameter.PolicyDocumentError")


def test_create_role_without_a_trust_policy_is_a_validation_error(api):
    response = api.post("/cam/roles/", json={"name": unique("role")})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["trust_policy"]


def test_create_role_with_an_unknown_policy_is_refused(api):
    name = unique("role")
    response = api.post("/cam/roles/", json={"name": name, "trust_policy": TRUST_POLICY, "policies": ["NoSuch"]})
    api.delete(f"/cam/roles/{name}/")
    assert failure(response) == (404, "InvalidParameter.PolicyIdNotExist")


def test_refused_role_creation_leaves_no_role_behind(api):
    name = unique("role")
    api.post("/cam/roles/", json={"name": name, "trust_policy": TRUST_POLICY, "policies": ["NoSuch"]})
    found = api.get(f"/cam/roles/{name}/")
    api.delete(f"/cam/roles/{name}/")
    assert failure(found) == (404, "InvalidParameter.RoleNotExist")


def test_get_role_returns_it(api, role):
    body = api.get(f"/cam/roles/{role}/").json()
    assert (body["name"], json.loads(body["trust_policy"])) == (role, json.loads(TRUST_POLICY))


def test_get_unknown_role_is_role_not_exist(api):
    assert failure(api.get(f"/cam/roles/{unique('none')}/")) == (404, "InvalidParameter.RoleNotExist")


def test_delete_role_answers_204(api, role):
    assert api.delete(f"/cam/roles/{role}/").status_code == 204


def test_deleted_role_is_gone(api, role):
    api.delete(f"/cam/roles/{role}/")
    assert failure(api.get(f"/cam/roles/{role}/")) == (404, "InvalidParameter.RoleNotExist")


def test_delete_unknown_role_is_role_not_exist(api):
    assert failure(api.delete(f"/cam/roles/{unique('none')}/")) == (404, "InvalidParameter.RoleNotExist")


def test_cos_service_role_is_created_with_the_kms_access_policy(api):
    body = api.post("/cam/cos-service-role/").json()
    assert (body["name"], body["policies"]) == ("COS_QcsRole", ["QcloudKMSAccessForCOSRole"])


def test_cos_service_role_creation_is_idempotent(api):
    first = api.post("/cam/cos-service-role/").json()
    second = api.post("/cam/cos-service-role/")
    assert second.status_code == 200
    assert second.json()["role_id"] == first["role_id"]


def test_cos_service_role_is_listed_once_among_roles(api):
    api.post("/cam/cos-service-role/")
    api.post("/cam/cos-service-role/")
    assert [item["name"] for item in listed(api, "/cam/roles/")].count("COS_QcsRole") == 1


def test_policies_list_the_presets(api):
    presets = {item["name"] for item in listed(api, "/cam/policies/") if item["type"] == "preset"}
    assert presets >= PRESET_POLICIES


def test_policies_have_id_name_description_and_type(api):
    assert {frozenset(item) for item in listed(api, "/cam/policies/")} == {
        frozenset({"policy_id", "name", "description", "type"})
    }


def test_create_user_answers_201_with_its_key_pair(api):
    name = unique("u")
    response = api.post("/cam/users/", json={"name": name, "remark": "r"})
    body = response.json()
    assert response.status_code == 201
    assert (body["name"], body["remark"]) == (name, "r")
    assert body["secret_id"].startswith("AKID")
    assert body["secret_key"]


def test_user_list_shows_users_without_secrets(api):
    user = ok(api.post("/cam/users/", json={"name": unique("u")}))
    users = listed(api, "/cam/users/")
    assert [set(item) for item in users if item["name"] == user["name"]] == [{"uin", "name", "remark", "created_at"}]
    assert user["secret_key"] not in json.dumps(users)


def test_access_key_list_shows_the_secret_id_only(api):
    user = ok(api.post("/cam/users/", json={"name": unique("u")}))
    response = api.get(f"/cam/users/{user['name']}/access-keys/")
    assert [(set(item), item["secret_id"], item["status"]) for item in response.json()["results"]] == [
        ({"secret_id", "status", "created_at"}, user["secret_id"], "Active")
    ]
    assert user["secret_key"] not in response.text


def test_create_user_with_a_name_in_use_is_refused(api):
    user = ok(api.post("/cam/users/", json={"name": unique("u")}))
    assert failure(api.post("/cam/users/", json={"name": user["name"]})) == (400, "InvalidParameter.UserNameIllegal")


def test_create_user_without_a_name_is_a_validation_error(api):
    response = api.post("/cam/users/", json={"remark": "nameless"})
    assert failure(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["name"]


def test_create_user_with_an_unknown_policy_is_refused(api):
    response = api.post("/cam/users/", json={"name": unique("u"), "policies": ["NoSuch"]})
    assert failure(response) == (404, "InvalidParameter.PolicyIdNotExist")


def test_refused_user_creation_leaves_no_user_behind(api):
    name = unique("u")
    api.post("/cam/users/", json={"name": name, "policies": ["NoSuch"]})
    assert name not in [item["name"] for item in listed(api, "/cam/users/")]


def test_create_access_key_answers_a_new_pair(api):
    user = ok(api.post("/cam/users/", json={"name": unique("u")}))
    response = api.post(f"/cam/users/{user['name']}/access-keys/")
    body = response.json()
    assert response.status_code == 201
    assert (set(body), body["secret_id"] != user["secret_id"]) == ({"secret_id", "secret_key"}, True)


def test_new_access_key_carries_the_sub_users_policies(kinko, api, listed_bucket):
    user = ok(api.post("/cam/users/", json={"name": unique("u"), "policies": ["QcloudCOSReadOnlyAccess"]}))
    pair = ok(api.post(f"/cam/users/{user['name']}/access-keys/"))
    as_user = Api.with_key(kinko, pair)
    assert as_user.get(f"/buckets/{listed_bucket}/objects/").status_code == 200
    assert failure(as_user.get("/cam/roles/")) == (403, "AuthFailure.UnauthorizedOperation")


def test_access_keys_of_an_unknown_user_are_user_not_exist(api):
    response = api.get(f"/cam/users/{unique('none')}/access-keys/")
    assert failure(response) == (404, "ResourceNotFound.UserNotExist")


def test_create_access_key_for_an_unknown_user_is_user_not_exist(api):
    response = api.post(f"/cam/users/{unique('none')}/access-keys/")
    assert failure(response) == (404, "ResourceNotFound.UserNotExist")
