"""Secure defaults of a server started the way `make run` starts it, with nothing configured: DEBUG off, no
technical page, a private data dir, Secure cookies and HSTS over TLS only, and X-Forwarded-* believed only from
KINKO_TRUSTED_PROXIES (the address a policy's qcs:ip sees included)."""

import base64
import hashlib
import http.client
import json
import re
import stat
import time
import uuid
from pathlib import Path

import pytest
import requests
from qcloud_cos import CosServiceError
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from tests.live import LiveKinko, cos_client, running_kinko
from tests.protocol.support import body_of, manage, new_bucket, virtual_host

# What a shell or CI may have set that would change the defaults under test.
CONFIGURED = ("DEBUG", "KINKO_DEBUG", "DJANGO_SECRET_KEY", "KINKO_SSE_C_ALLOW_HTTP", "KINKO_TRUSTED_PROXIES")
ADMIN_PASSWORD = uuid.uuid4().hex
# Text of Django's technical (debug) pages and of its built-in error pages, never of Kinko's plain ones.
TECHNICAL = ("Traceback", "Django", "DEBUG", "URLconf", "settings.py", "Request Method", "Exception Value")
SSE_C_KEY = bytes(range(32))
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
# Every header gunicorn itself would take as "the client used HTTPS" from a peer it trusts.
SCHEME_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> LiveKinko:
    """A server with nothing configured but its data dir, ports and admin password; HTTPS listener on."""
    folder = tmp_path_factory.mktemp("kinko-defaults")
    env = {"KINKO_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with running_kinko(folder, env=env, drop=CONFIGURED, workers=1, threads=2) as server:
        yield server


@pytest.fixture(scope="module")
def trusting(tmp_path_factory) -> LiveKinko:
    """A server behind a reverse proxy on 127.0.0.1 (KINKO_TRUSTED_PROXIES), plain HTTP only."""
    folder = tmp_path_factory.mktemp("kinko-proxied")
    env = {"KINKO_ADMIN_PASSWORD": ADMIN_PASSWORD, "KINKO_TRUSTED_PROXIES": "127.0.0.1"}
    with running_kinko(folder, env=env, drop=CONFIGURED, https=False, workers=1, threads=2) as server:
        yield server


def https_url(server: LiveKinko, path: str) -> str:
    return f"https://127.0.0.1:{server.https_port}{path}"


def technical_text(text: str) -> list[str]:
    return [marker for marker in TECHNICAL if marker in text]


def set_cookies(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie header of the response by cookie name (the raw header, attributes included)."""
    headers = response.raw.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def is_secure_cookie(header: str) -> bool:
    return any(part.strip().lower() == "secure" for part in header.split(";")[1:])


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_in(base: str, **request_options) -> requests.Response:
    """Sign in to the console as the admin at `base`; the response of the POST (its redirect not followed)."""
    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=10, **request_options)
    return session.post(
        f"{base}/login/",
        data={"csrfmiddlewaretoken": csrf_token(form.text), "username": "admin", "password": ADMIN_PASSWORD},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
        timeout=10,
        **request_options,
    )


def wait_for_log(server: LiveKinko, marker: str) -> str:
    deadline = time.monotonic() + 10
    while marker not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # whatever the same request logs after the line with the marker
    return server.log()


def raw_get(server: LiveKinko, path: str, host: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- DEBUG off, no technical page ------------------------------------------------------------------------------


def test_unknown_console_url_answers_a_plain_404_page(plain):
    response = requests.get(f"{plain.url}/no-such-page/", timeout=10)
    assert (response.status_code, response.headers["Content-Type"].split(";")[0]) == (404, "text/html")
    assert technical_text(response.text) == []


def test_unknown_console_url_page_says_the_page_was_not_found(plain):
    response = requests.get(f"{plain.url}/no-such-page/", timeout=10)
    assert "Page not found" in response.text


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_api_route_answers_a_json_404(plain, method):
    response = requests.request(method, f"{plain.url}/api/v1/nope", timeout=10)
    assert (response.status_code, response.headers["Content-Type"]) == (404, "application/json")
    assert response.json()["code"] == "NotFound"


def test_unknown_api_route_error_has_a_detail(plain):
    body = requests.get(f"{plain.url}/api/v1/nope/deeper/", timeout=10).json()
    assert sorted(body) == ["code", "detail"]


def test_console_form_posted_without_a_csrf_token_answers_a_plain_403(plain):
    response = requests.post(f"{plain.url}/login/", data={"username": "admin", "password": "x"}, timeout=10)
    assert response.status_code == 403
    assert technical_text(response.text) == []


def test_a_host_header_django_refuses_answers_a_concise_400(plain):
    status, body = raw_get(plain, "/login/", "bad_host!")
    assert status == 400
    assert technical_text(body.decode()) == []


def test_a_refused_host_header_is_logged_on_one_line_without_a_traceback(plain):
    marker = f"bad_{uuid.uuid4().hex}"
    raw_get(plain, "/login/", marker)
    log = wait_for_log(plain, marker)
    (line,) = [line for line in log.splitlines() if marker in line]
    assert " WARNING django.security.DisallowedHost " in line  # the client's mistake: not an ERROR
    assert "Traceback" not in log


def test_static_files_are_served_with_debug_off(plain):
    response = requests.get(f"{plain.url}/static/console/kinko.css", timeout=10)
    assert (response.status_code, response.headers["Content-Type"].split(";")[0]) == (200, "text/css")


# -- the data dir is private ------------------------------------------------------------------------------------


def modes_of(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(folder))] = stat.S_IMODE(path.stat().st_mode)
    return found


@pytest.fixture(scope="module")
def data_dir_after_writes(plain) -> dict[str, int]:
    """Modes of everything in the data dir after objects, a multipart part, a sign-in and a queued job."""
    cos = cos_client(plain)
    bucket = new_bucket(cos)
    for index in range(3):
        cos.put_object(Bucket=bucket, Key=f"o{index}.txt", Body=b"private %d" % index)
    upload = cos.create_multipart_upload(Bucket=bucket, Key="mp.bin")["UploadId"]
    cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"part", PartNumber=1, UploadId=upload)
    sign_in(plain.url)
    job = requests.post(
        f"{plain.url}/api/v1/buckets/{bucket}/encryption-jobs/",
        json={"prefix": "", "sse": "AES256", "kms_key_id": None},
        headers={"Authorization": f"Token {plain.api_token}"},
        timeout=30,
    )
    assert job.status_code == 202, job.text
    return modes_of(plain.data_dir)


def test_data_dir_is_0700(data_dir_after_writes):
    assert oct(data_dir_after_writes["."]) == oct(0o700)


def test_every_folder_in_the_data_dir_is_0700(plain, data_dir_after_writes):
    folders = {name: oct(mode) for name, mode in data_dir_after_writes.items() if (plain.data_dir / name).is_dir()}
    assert {name: mode for name, mode in folders.items() if mode != oct(0o700)} == {}


def test_every_file_in_the_data_dir_is_0600(plain, data_dir_after_writes):
    files = {name: oct(mode) for name, mode in data_dir_after_writes.items() if (plain.data_dir / name).is_file()}
    assert {name: mode for name, mode in files.items() if mode != oct(0o600)} == {}


@pytest.mark.parametrize(
    "name", ["kinko.sqlite3", "root.key", "secret_key", "tls/ca.key", "tls/server.key", "tls/ca.pem", "server.log"]
)
def test_the_data_dir_walk_covers_the_secrets(data_dir_after_writes, name):
    assert oct(data_dir_after_writes[name]) == oct(0o600)


@pytest.mark.parametrize("folder", ["objects/", "broker/queue/"])
def test_the_data_dir_walk_covers_blobs_and_queued_messages(plain, data_dir_after_writes, folder):
    files = [name for name in data_dir_after_writes if name.startswith(folder) and (plain.data_dir / name).is_file()]
    assert files and {oct(data_dir_after_writes[name]) for name in files} == {oct(0o600)}


# -- Secure cookies and HSTS over TLS only -----------------------------------------------------------------------


def test_csrf_cookie_is_secure_over_https(plain):
    response = requests.get(https_url(plain, "/login/"), verify=str(plain.ca_bundle), timeout=10)
    assert is_secure_cookie(set_cookies(response)["csrftoken"])


def test_session_cookie_is_secure_over_https(plain):
    response = sign_in(f"https://127.0.0.1:{plain.https_port}", verify=str(plain.ca_bundle))
    assert response.status_code == 302
    assert is_secure_cookie(set_cookies(response)["sessionid"])


def test_cookies_are_not_secure_over_plain_http_on_localhost(plain):
    response = sign_in(plain.url)
    assert response.status_code == 302
    assert not is_secure_cookie(set_cookies(response)["sessionid"])


@pytest.mark.parametrize("path", ["/login/", "/healthz", "/api/v1/nope"])
def test_tls_listener_sends_hsts(plain, path):
    response = requests.get(https_url(plain, path), verify=str(plain.ca_bundle), timeout=10)
    assert re.fullmatch(r"max-age=[1-9][0-9]*.*", response.headers.get("Strict-Transport-Security", ""))


def test_tls_listener_sends_hsts_on_the_cos_api(plain, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(plain.ca_bundle))
    cos = cos_client(plain, Scheme="https", IP="127.0.0.1", Port=plain.https_port)
    bucket = new_bucket(cos_client(plain))
    reply = cos.put_object(Bucket=bucket, Key="hsts.txt", Body=b"x")
    assert "max-age=" in {name.lower(): value for name, value in reply.items()}.get("strict-transport-security", "")


@pytest.mark.parametrize("path", ["/login/", "/healthz"])
def test_plain_http_sends_no_hsts(plain, path):
    assert "Strict-Transport-Security" not in requests.get(f"{plain.url}{path}", timeout=10).headers


# -- X-Forwarded-* only from KINKO_TRUSTED_PROXIES -----------------------------------------------------------------


@pytest.mark.parametrize("header", sorted(SCHEME_HEADERS))
def test_a_forwarded_scheme_from_an_untrusted_client_does_not_allow_sse_c_over_http(plain, header):
    cos = cos_client(plain)
    bucket = new_bucket(cos)
    with pytest.raises(CosServiceError) as err:
        cos.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={header: SCHEME_HEADERS[header]}, **SSE_C)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest")


@pytest.mark.parametrize("header", sorted(SCHEME_HEADERS))
def test_a_forwarded_scheme_from_an_untrusted_client_gets_no_hsts_and_no_secure_cookie(plain, header):
    response = requests.get(f"{plain.url}/login/", headers={header: SCHEME_HEADERS[header]}, timeout=10)
    assert "Strict-Transport-Security" not in response.headers
    assert not is_secure_cookie(set_cookies(response)["csrftoken"])


def test_a_forwarded_scheme_from_a_trusted_proxy_allows_sse_c(trusting):
    cos = cos_client(trusting)
    bucket = new_bucket(cos)
    forwarded = {"Metadata": {"X-Forwarded-Proto": "https"}}
    cos.put_object(Bucket=bucket, Key="k", Body=b"behind tls", **forwarded, **SSE_C)
    assert body_of(cos.get_object(Bucket=bucket, Key="k", **forwarded, **SSE_C)) == b"behind tls"


def test_a_trusted_proxy_without_a_forwarded_scheme_is_plain_http(trusting):
    cos = cos_client(trusting)
    bucket = new_bucket(cos)
    with pytest.raises(CosServiceError) as err:
        cos.put_object(Bucket=bucket, Key="k", Body=b"x", **SSE_C)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidRequest")


def test_a_forwarded_https_from_a_trusted_proxy_gets_hsts_and_secure_cookies(trusting):
    response = requests.get(f"{trusting.url}/login/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    assert is_secure_cookie(set_cookies(response)["csrftoken"])


def test_a_forwarded_host_from_a_trusted_proxy_addresses_the_bucket(trusting):
    cos = cos_client(trusting)
    bucket = new_bucket(cos, ACL="public-read")
    cos.put_object(Bucket=bucket, Key="page.txt", Body=b"public")
    response = requests.get(f"{trusting.url}/page.txt", headers={"X-Forwarded-Host": virtual_host(bucket)}, timeout=10)
    assert (response.status_code, response.content) == (200, b"public")


def test_a_forwarded_host_from_an_untrusted_client_is_ignored(plain):
    cos = cos_client(plain)
    bucket = new_bucket(cos, ACL="public-read")
    cos.put_object(Bucket=bucket, Key="page.txt", Body=b"public")
    response = requests.get(f"{plain.url}/page.txt", headers={"X-Forwarded-Host": virtual_host(bucket)}, timeout=10)
    assert response.content != b"public"


def cam_sdk(server: LiveKinko) -> cam_client.CamClient:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}"))
    return cam_client.CamClient(credential.Credential(server.secret_id, server.secret_key), "", profile)


def cam_call(client: cam_client.CamClient, action: str, **fields):
    request = getattr(cam, f"{action}Request")()
    for name, value in fields.items():
        setattr(request, name, value)
    return getattr(client, action)(request)


def sub_user_from(server: LiveKinko, network: str) -> tuple[str, str]:
    """(SecretId, SecretKey) of a new sub-user allowed PutObject only from `network` (policy condition qcs:ip)."""
    client = cam_sdk(server)
    user = cam_call(client, "AddUser", Name=f"net{uuid.uuid4().hex[:10]}", UseApi=1)
    statement = {
        "action": ["name/cos:PutObject"],
        "effect": "allow",
        "resource": ["*"],
        "condition": {"ip_equal": {"qcs:ip": [network]}},
    }
    document = json.dumps({"version": "2.0", "statement": [statement]})
    policy = cam_call(client, "CreatePolicy", PolicyName=f"net{uuid.uuid4().hex[:10]}", PolicyDocument=document)
    cam_call(client, "AttachUserPolicy", PolicyId=policy.PolicyId, AttachUin=user.Uin)
    return user.SecretId, user.SecretKey


def put_as(server: LiveKinko, keys: tuple[str, str], bucket: str, forwarded_for: str | None) -> int:
    """The HTTP status of a sub-user's PutObject, sent with X-Forwarded-For when given."""
    cos = cos_client(server, secret_id=keys[0], secret_key=keys[1])
    metadata = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    try:
        cos.put_object(Bucket=bucket, Key="from-net.txt", Body=b"x", Metadata=metadata)
    except CosServiceError as err:
        return err.get_status_code()
    return 200


def test_qcs_ip_is_the_forwarded_client_behind_a_trusted_proxy(trusting):
    keys = sub_user_from(trusting, "203.0.113.0/24")
    assert put_as(trusting, keys, new_bucket(cos_client(trusting)), "203.0.113.7") == 200


def test_qcs_ip_behind_a_trusted_proxy_is_the_proxy_without_a_forwarded_client(trusting):
    keys = sub_user_from(trusting, "203.0.113.0/24")
    assert put_as(trusting, keys, new_bucket(cos_client(trusting)), None) == 403


def test_qcs_ip_ignores_a_forwarded_client_an_untrusted_client_claims(plain):
    keys = sub_user_from(plain, "203.0.113.0/24")
    assert put_as(plain, keys, new_bucket(cos_client(plain)), "203.0.113.7") == 403


def test_qcs_ip_behind_a_trusted_proxy_ignores_addresses_the_client_put_before_the_proxy(trusting):
    keys = sub_user_from(trusting, "203.0.113.0/24")
    # The proxy appends the address it saw; what came before it is the client's own claim.
    assert put_as(trusting, keys, new_bucket(cos_client(trusting)), "203.0.113.7, 198.51.100.20") == 403


# -- the secret key and DEBUG -------------------------------------------------------------------------------------


def test_the_live_server_does_not_use_the_public_development_key(plain):
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    printed = manage(plain, "shell", "-c", script).strip().splitlines()[-1]
    assert printed == (plain.data_dir / "secret_key").read_text().strip()
    assert printed != "kinko-insecure-development-secret-key-do-not-deploy"
