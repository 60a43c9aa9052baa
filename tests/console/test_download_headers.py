"""Downloads from the console and the JSON API never run on the console's origin: whatever the key (non-ASCII,
quotes, CR, LF, other control characters; a NUL is refused at upload), the answer is `Content-Disposition:
attachment` with an RFC 6266 `filename*` that names the object exactly and an ASCII fallback `filename`, plus
`X-Content-Type-Options: nosniff` and a sandbox CSP (issue 12)."""

import re
import uuid
from urllib.parse import quote, unquote

import pytest
import requests

from tests.live import APPID, LiveKinko, cos_client
from tests.protocol.support import manage

KEYS = [
    "ページ<script>.html",
    'quote"and\\back.html',
    "line\r\nSet-Cookie: x=1.html",
    "tab\tand\x1bescape.html",
    "dir/naïve café.txt",
    "plain.txt",
    "semi;colon, comma.html",
]
FILENAME_STAR = re.compile(r"filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*)")
FILENAME = re.compile(r'filename="((?:[ !#-\[\]-~])*)"')  # printable ASCII without " or \
TOKEN_CHARS = re.compile(r"^[\x20-\x7e]*$")
CREATE_SUPERUSER = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser({username!r}, email="", password={password!r})
"""


def basename(key: str) -> str:
    return key.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def bucket(kinko) -> str:
    client = cos_client(kinko)
    name = f"d{uuid.uuid4().hex[:12]}-{APPID}"
    client.create_bucket(Bucket=name)
    for key in KEYS:
        client.put_object(Bucket=name, Key=key, Body=b"<script>document.title='ran'</script>", ContentType="text/html")
    yield name
    for key in KEYS:
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)


@pytest.fixture(scope="module")
def console(kinko) -> requests.Session:
    username, password = f"dl{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    manage(kinko, "shell", "-c", CREATE_SUPERUSER.format(username=username, password=password))
    session = requests.Session()
    form = session.get(f"{kinko.url}/login/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    signed_in = session.post(
        f"{kinko.url}/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        timeout=10,
    )
    assert signed_in.status_code == 200 and signed_in.url == f"{kinko.url}/", signed_in.url
    return session


def console_download(kinko: LiveKinko, console: requests.Session, bucket: str, key: str) -> requests.Response:
    return console.get(f"{kinko.url}/buckets/{bucket}/download/{quote(key, safe='/')}", timeout=10)


def api_download(kinko: LiveKinko, bucket: str, key: str) -> requests.Response:
    return requests.get(
        f"{kinko.url}/api/v1/buckets/{bucket}/objects/{quote(key, safe='/')}",
        params={"download": "1"},
        headers={"Authorization": f"Token {kinko.api_token}"},
        timeout=10,
    )


@pytest.fixture(params=["console", "jsonapi"])
def download(request, kinko, console, bucket):
    if request.param == "console":
        return lambda key: console_download(kinko, console, bucket, key)
    return lambda key: api_download(kinko, bucket, key)


@pytest.mark.parametrize("key", KEYS)
def test_download_is_served_whole(download, key):
    response = download(key)
    assert response.status_code == 200, response.text
    assert response.content == b"<script>document.title='ran'</script>"


@pytest.mark.parametrize("key", KEYS)
def test_download_is_an_attachment(download, key):
    disposition = download(key).headers["Content-Disposition"]
    assert TOKEN_CHARS.match(disposition), disposition
    assert disposition.split(";")[0] == "attachment"


@pytest.mark.parametrize("key", KEYS)
def test_download_names_the_object_exactly_in_filename_star(download, key):
    found = FILENAME_STAR.search(download(key).headers["Content-Disposition"])
    assert found is not None
    assert unquote(found.group(1), errors="strict") == basename(key)


@pytest.mark.parametrize("key", KEYS)
def test_download_has_an_ascii_fallback_filename(download, key):
    assert FILENAME.search(download(key).headers["Content-Disposition"]) is not None


@pytest.mark.parametrize("key", KEYS)
def test_download_is_not_sniffed(download, key):
    assert download(key).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("key", KEYS)
def test_download_is_sandboxed(download, key):
    policy = download(key).headers["Content-Security-Policy"]
    assert "sandbox" in [directive.strip().split(" ")[0] for directive in policy.split(";")]


def test_json_api_metadata_of_an_object_is_still_json(kinko, bucket):
    response = requests.get(
        f"{kinko.url}/api/v1/buckets/{bucket}/objects/{quote(KEYS[0])}",
        headers={"Authorization": f"Token {kinko.api_token}"},
        timeout=10,
    )
    assert response.json()["key"] == KEYS[0]
    assert response.json()["size"] == len(b"<script>document.title='ran'</script>")
