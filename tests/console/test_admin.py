"""The admin (/admin/) over HTTP on the live server, signed in as a superuser: every changelist and change page
it links to shows no secret (SecretKeys, the ApiToken, SSE-C keys, KMS data keys and key material, nor any sealed
or wrapped value from the database), and deleting a non-empty bucket is refused with a message."""

import base64
import hashlib
import json
import os
import re
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client
from tencentcloud.kms.v20190118 import models as kms_models

from tests.live import APPID, REGION, LiveKinko, cos_client
from tests.protocol.support import manage

CHANGELISTS = {
    "/admin/auth/group/",
    "/admin/auth/user/",
    "/admin/buckets/bucket/",
    "/admin/buckets/job/",
    "/admin/buckets/multipartupload/",
    "/admin/buckets/storedobject/",
    "/admin/keys/auditevent/",
    "/admin/keys/keyusage/",
    "/admin/keys/masterkey/",
    "/admin/keys/servicemasterkey/",
    "/admin/roles/account/",
    "/admin/roles/apikey/",
    "/admin/roles/policy/",
    "/admin/roles/role/",
    "/admin/roles/subuser/",
}
# The index, app indexes, changelists and change pages; not add, delete, history or filtered/paged variants.
ADMIN_PAGE = re.compile(r"/admin/(?:[a-z_]+/(?:[a-z_]+/(?:[^/]+/change/)?)?)?")
NOT_PAGES = {"/admin/logout/", "/admin/jsi18n/"}  # a POST-only action and a script
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
CREATE_SUPERUSER = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser({username!r}, email="", password={password!r})
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def forms_of(value: bytes) -> list[str]:
    """How bytes could show up in HTML: base64 and hex (lower and upper case)."""
    return [b64(value), value.hex(), value.hex().upper()]


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def messages_of(html: str) -> list[tuple[str, str]]:
    """(level, text) of each message the admin shows."""
    return re.findall(
        r'<li class="(\w+)">(.*?)</li>', "".join(re.findall(r'<ul class="messagelist">(.*?)</ul>', html, re.S))
    )


class JsonApi:
    def __init__(self, kinko: LiveKinko, token: str) -> None:
        self.base = f"{kinko.url}/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code in (200, 201, 202), response.text
        return response.json()


@dataclass
class Made:
    """What this module created, and every secret it knows of."""

    marker: str
    bucket: str
    empty_bucket: str
    kms_key_id: str
    imported_key_id: str
    pending_key_id: str
    sub_user: str
    sub_user_secret_ids: list[str]
    secrets: dict[str, list[str]]


def sse_c(key: bytes) -> dict[str, str]:
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": b64(key),
        "SSECustomerKeyMD5": b64(hashlib.md5(key).digest()),
    }


def kms_sdk(kinko: LiveKinko) -> kms_client.KmsClient:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{kinko.port}"))
    return kms_client.KmsClient(credential.Credential(kinko.secret_id, kinko.secret_key), REGION, profile)


def generate_data_key(kinko: LiveKinko, key_id: str) -> bytes:
    request = kms_models.GenerateDataKeyRequest()
    request.KeyId = key_id
    request.KeySpec = "AES_256"
    return base64.b64decode(kms_sdk(kinko).GenerateDataKey(request).Plaintext)


@pytest.fixture(scope="module")
def made(kinko) -> Made:
    """Buckets with SSE-C, SSE-KMS and SSE-COS objects and an SSE-C multipart upload in progress, a KMS key, an
    imported one and one waiting for its material, an encryption job, and a sub-user with two key pairs."""
    credentials = json.loads(manage(kinko, "credentials", "--json"))
    api = JsonApi(kinko, credentials["ApiToken"])
    cos = cos_client(kinko)
    marker = f"adm{uuid.uuid4().hex[:10]}"
    bucket, empty_bucket = f"{marker}-{APPID}", f"{marker}e-{APPID}"
    api.call("POST", "/kms/activate/")
    api.call("POST", "/buckets/", json={"name": bucket, "region": REGION})
    api.call("POST", "/buckets/", json={"name": empty_bucket, "region": REGION})
    key_id = api.call("POST", "/kms/keys/", json={"alias": marker})["key_id"]

    ssec_key, ssec_upload_key = os.urandom(32), os.urandom(32)
    cos.put_object(Bucket=bucket, Key=f"{marker}/ssec.bin", Body=b"customer" * 100, **sse_c(ssec_key))
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key=f"{marker}/upload.bin", **sse_c(ssec_upload_key))[
        "UploadId"
    ]
    cos.upload_part(
        Bucket=bucket,
        Key=f"{marker}/upload.bin",
        Body=b"part" * 100,
        PartNumber=1,
        UploadId=upload_id,
        **sse_c(ssec_upload_key),
    )
    api.call("PUT", f"/buckets/{bucket}/objects/{marker}/kms.bin", data=b"kms" * 100, params={"sse": "cos/kms"})
    api.call(
        "PUT",
        f"/buckets/{bucket}/objects/{marker}/own-key.bin",
        data=b"own" * 100,
        params={"sse": "cos/kms", "kms_key_id": key_id},
    )
    api.call("PUT", f"/buckets/{bucket}/objects/{marker}/cos.bin", data=b"cos" * 100, params={"sse": "AES256"})
    api.call("PUT", f"/buckets/{bucket}/objects/{marker}/plain.bin", data=b"plain" * 100)
    api.call("POST", f"/buckets/{bucket}/encryption-jobs/", json={"prefix": f"{marker}/zzz", "sse": "AES256"})

    imported_key_id = api.call("POST", "/kms/keys/", json={"alias": f"{marker}i", "origin": "EXTERNAL"})["key_id"]
    parameters = api.call(
        "POST", f"/kms/keys/{imported_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_OAEP_SHA_256"}
    )
    material = os.urandom(32)
    public_key = serialization.load_der_public_key(base64.b64decode(parameters["public_key"]))
    api.call(
        "POST",
        f"/kms/keys/{imported_key_id}/import/",
        json={
            "import_token": parameters["import_token"],
            "encrypted_key_material": b64(public_key.encrypt(material, OAEP_SHA256)),
        },
    )
    # Import parameters nobody used yet: their sealed RSA private key stays in the database.
    pending_key_id = api.call("POST", "/kms/keys/", json={"alias": f"{marker}p", "origin": "EXTERNAL"})["key_id"]
    api.call("POST", f"/kms/keys/{pending_key_id}/import-parameters/", json={"wrapping_algorithm": "RSAES_PKCS1_V1_5"})

    user = api.call("POST", "/cam/users/", json={"name": marker, "policies": ["QcloudCOSReadOnlyAccess"]})
    second_pair = api.call("POST", f"/cam/users/{marker}/access-keys/")
    data_keys = [generate_data_key(kinko, key_id), generate_data_key(kinko, imported_key_id)]
    yield Made(
        marker=marker,
        bucket=bucket,
        empty_bucket=empty_bucket,
        kms_key_id=key_id,
        imported_key_id=imported_key_id,
        pending_key_id=pending_key_id,
        sub_user=marker,
        sub_user_secret_ids=[user["secret_id"], second_pair["secret_id"]],
        secrets={
            "root SecretKey": [kinko.secret_key],
            "ApiToken": [credentials["ApiToken"]],
            "sub-user SecretKey": [user["secret_key"], second_pair["secret_key"]],
            "SSE-C key": forms_of(ssec_key) + forms_of(ssec_upload_key),
            "KMS data key plaintext": [form for data_key in data_keys for form in forms_of(data_key)],
            "imported key material": forms_of(material),
        },
    )
    cos.abort_multipart_upload(Bucket=bucket, Key=f"{marker}/upload.bin", UploadId=upload_id)
    for item in api.call("GET", f"/buckets/{bucket}/objects/")["results"]:
        api.session.delete(f"{api.base}/buckets/{bucket}/objects/{quote(item['key'])}", timeout=30)
    for name in (bucket, empty_bucket):
        api.session.delete(f"{api.base}/buckets/{name}/", timeout=30)


def query(kinko: LiveKinko, sql: str, *params) -> list[tuple]:
    """Rows of the server's database, opened read-only: the test reads what the server stored, never writes."""
    with closing(sqlite3.connect(f"file:{kinko.data_dir / 'kinko.sqlite3'}?mode=ro", uri=True)) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def stored(kinko, made) -> dict[str, list[str]]:
    """The sealed and wrapped values the database holds for what this module made (and the SSE-COS master key
    versions, and the root account's sealed secrets), each in every form it could be rendered in."""
    key_ids = [uuid.UUID(key).hex for key in (made.kms_key_id, made.imported_key_id, made.pending_key_id)]
    secret_ids = [kinko.secret_id, *made.sub_user_secret_ids]
    (bucket_id,) = query(kinko, "SELECT id FROM buckets_bucket WHERE name = ?", made.bucket)[0]

    def values(sql: str, *params) -> list[bytes | str]:
        return [row[0] for row in query(kinko, sql, *params) if row[0]]

    found = {
        "wrapped_key": values("SELECT wrapped_key FROM buckets_storedobject WHERE bucket_id = ?", bucket_id)
        + values(
            "SELECT p.wrapped_key FROM buckets_part p JOIN buckets_multipartupload u ON p.upload_id = u.id "
            "WHERE u.bucket_id = ?",
            bucket_id,
        ),
        "ssec_key_check": values("SELECT ssec_key_check FROM buckets_storedobject WHERE bucket_id = ?", bucket_id)
        + values("SELECT ssec_key_check FROM buckets_multipartupload WHERE bucket_id = ?", bucket_id),
        "material_sealed": values(
            "SELECT m.material_sealed FROM keys_keymaterial m JOIN keys_masterkey k ON m.key_id = k.id "
            "WHERE k.key_id IN (?, ?, ?)",
            *key_ids,
        )
        + values("SELECT material_sealed FROM keys_servicemasterkey"),
        "private_key_sealed": values(
            "SELECT t.private_key_sealed FROM keys_importtoken t JOIN keys_masterkey k ON t.key_id = k.id "
            "WHERE k.key_id IN (?, ?, ?)",
            *key_ids,
        ),
        "api_token_sealed": values("SELECT api_token_sealed FROM roles_account WHERE is_root = 1"),
        "secret_key_sealed": values(
            "SELECT secret_key_sealed FROM roles_apikey WHERE secret_id IN (?, ?, ?)",
            *secret_ids,
        ),
    }
    return {
        label: [
            form for value in values for form in ([value, value.upper()] if isinstance(value, str) else forms_of(value))
        ]
        for label, values in found.items()
    }


@pytest.fixture(scope="module")
def admin(kinko) -> requests.Session:
    """A browser session signed in to /admin/ as a new superuser."""
    username, password = f"admin{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    manage(kinko, "shell", "-c", CREATE_SUPERUSER.format(username=username, password=password))
    session = requests.Session()
    login = f"{kinko.url}/admin/login/"
    form = csrf_token(session.get(login, timeout=10).text)
    session.post(
        login,
        data={"csrfmiddlewaretoken": form, "username": username, "password": password, "next": "/admin/"},
        timeout=10,
    )
    return session


@pytest.fixture(scope="module")
def pages(kinko, admin, made) -> dict[str, requests.Response]:
    """Every admin page reachable from /admin/ by its links (first page of each changelist, and the same
    changelists searched for this module's marker, so its objects are reached whatever else the session made)."""
    seeds = ["/admin/"] + [f"{changelist}?q={made.marker}" for changelist in sorted(CHANGELISTS)]
    queue, seen, fetched = list(seeds), set(seeds), {}
    while queue:
        path = queue.pop(0)
        response = admin.get(urljoin(kinko.url, path), timeout=30)
        fetched[path] = response
        for href in re.findall(r'href="([^"]+)"', response.text):
            link = urlsplit(urljoin(path, href.replace("&amp;", "&"))).path
            if ADMIN_PAGE.fullmatch(link) and link not in NOT_PAGES and link not in seen:
                seen.add(link)
                queue.append(link)
    return fetched


def leaks(pages: dict[str, requests.Response], secrets: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [
        (path, label)
        for path, response in pages.items()
        for label, values in secrets.items()
        for value in values
        if value in response.text
    ]


def change_page(kinko: LiveKinko, model: str, where: str, *params) -> str:
    """The admin change page of the row of `model` (app_model table) matching `where`."""
    ((pk,),) = query(kinko, f"SELECT id FROM {model} WHERE {where}", *params)  # noqa: S608 - test-chosen names
    app, name = model.split("_", 1)
    return f"/admin/{app}/{name}/{pk}/change/"


# -- the crawl itself ------------------------------------------------------------------------------------------


def test_admin_sign_in_reaches_the_index(kinko, admin):
    response = admin.get(f"{kinko.url}/admin/", timeout=10)
    assert response.url == f"{kinko.url}/admin/"
    assert "/admin/logout/" in response.text


def test_crawl_visits_every_registered_changelist(pages):
    assert CHANGELISTS <= set(pages)


def test_crawl_visits_the_change_pages_of_what_this_module_made(kinko, made, pages):
    wanted = {
        change_page(kinko, "buckets_bucket", "name = ?", made.bucket),
        change_page(kinko, "buckets_storedobject", "key = ?", f"{made.marker}/ssec.bin"),
        change_page(kinko, "buckets_storedobject", "key = ?", f"{made.marker}/kms.bin"),
        change_page(kinko, "buckets_multipartupload", "key = ?", f"{made.marker}/upload.bin"),
        change_page(kinko, "buckets_job", "bucket_id = (SELECT id FROM buckets_bucket WHERE name = ?)", made.bucket),
        change_page(kinko, "keys_masterkey", "key_id = ?", uuid.UUID(made.kms_key_id).hex),
        change_page(kinko, "keys_masterkey", "key_id = ?", uuid.UUID(made.imported_key_id).hex),
        change_page(kinko, "keys_masterkey", "key_id = ?", uuid.UUID(made.pending_key_id).hex),
        change_page(kinko, "roles_subuser", "name = ?", made.sub_user),
        change_page(kinko, "roles_apikey", "secret_id = ?", made.sub_user_secret_ids[0]),
        change_page(kinko, "roles_apikey", "secret_id = ?", made.sub_user_secret_ids[1]),
        change_page(kinko, "roles_apikey", "secret_id = ?", kinko.secret_id),
        change_page(kinko, "roles_account", "is_root = 1"),
    }
    assert wanted <= set(pages)


def test_every_crawled_admin_page_answers_200(pages):
    assert [(path, response.status_code) for path, response in pages.items() if response.status_code != 200] == []


def test_crawled_pages_are_signed_in_admin_pages(pages):
    assert [path for path, response in pages.items() if "/admin/logout/" not in response.text] == []


def test_crawled_pages_show_the_public_identifiers_of_what_this_module_made(kinko, made, pages):
    # The counterpart of the leak checks below: what may be shown is found by the same search.
    public = [
        kinko.secret_id,
        *made.sub_user_secret_ids,
        made.kms_key_id,
        made.imported_key_id,
        made.pending_key_id,
        made.bucket,
    ]
    found = {label for _, label in leaks(pages, {value: [value] for value in public})}
    assert found == set(public)


# -- no secret on any page -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "root SecretKey",
        "ApiToken",
        "sub-user SecretKey",
        "SSE-C key",
        "KMS data key plaintext",
        "imported key material",
    ],
)
def test_no_admin_page_shows_a_secret_the_clients_hold(made, pages, label):
    assert leaks(pages, {label: made.secrets[label]}) == []


@pytest.mark.parametrize(
    "column",
    [
        "wrapped_key",
        "ssec_key_check",
        "material_sealed",
        "private_key_sealed",
        "api_token_sealed",
        "secret_key_sealed",
    ],
)
def test_no_admin_page_shows_a_value_stored_sealed_or_wrapped(stored, pages, column):
    assert stored[column]
    assert leaks(pages, {column: stored[column]}) == []


# -- deleting from the admin goes through the domain checks ----------------------------------------------------


def delete_in_admin(kinko: LiveKinko, admin: requests.Session, bucket: str) -> requests.Response:
    path = change_page(kinko, "buckets_bucket", "name = ?", bucket).replace("/change/", "/delete/")
    confirm = admin.get(f"{kinko.url}{path}", timeout=10)
    return admin.post(
        f"{kinko.url}{path}", data={"csrfmiddlewaretoken": csrf_token(confirm.text), "post": "yes"}, timeout=30
    )


def bulk_delete_in_admin(kinko: LiveKinko, admin: requests.Session, bucket: str) -> requests.Response:
    pk = change_page(kinko, "buckets_bucket", "name = ?", bucket).split("/")[-3]
    changelist = f"{kinko.url}/admin/buckets/bucket/"
    token = csrf_token(admin.get(changelist, timeout=10).text)
    data = {"csrfmiddlewaretoken": token, "action": "delete_selected", "_selected_action": [pk], "post": "yes"}
    return admin.post(changelist, data=data, timeout=30)


def bucket_exists(kinko: LiveKinko, bucket: str) -> bool:
    return query(kinko, "SELECT COUNT(*) FROM buckets_bucket WHERE name = ?", bucket) == [(1,)]


def test_deleting_a_non_empty_bucket_in_the_admin_keeps_it(kinko, admin, made):
    delete_in_admin(kinko, admin, made.bucket)
    assert bucket_exists(kinko, made.bucket)


def test_deleting_a_non_empty_bucket_in_the_admin_shows_the_refusal(kinko, admin, made):
    shown = messages_of(delete_in_admin(kinko, admin, made.bucket).text)
    assert [level for level, text in shown if "BucketNotEmpty" in text] == ["error"]


def test_refused_admin_deletion_does_not_report_success(kinko, admin, made):
    shown = messages_of(delete_in_admin(kinko, admin, made.bucket).text)
    assert [text for level, text in shown if level == "success"] == []


def test_bulk_deleting_a_non_empty_bucket_in_the_admin_keeps_it(kinko, admin, made):
    bulk_delete_in_admin(kinko, admin, made.bucket)
    assert bucket_exists(kinko, made.bucket)


def test_bulk_deleting_a_non_empty_bucket_in_the_admin_shows_the_refusal(kinko, admin, made):
    shown = messages_of(bulk_delete_in_admin(kinko, admin, made.bucket).text)
    assert [level for level, text in shown if "BucketNotEmpty" in text] == ["error"]


def test_deleting_an_empty_bucket_in_the_admin_deletes_it(kinko, admin, made):
    delete_in_admin(kinko, admin, made.empty_bucket)
    assert not bucket_exists(kinko, made.empty_bucket)
