"""Helpers shared by the multipart, copy, POST Object, presigned, ACL, HTTPS and housekeeping protocol tests."""

import json
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import crcmod
import requests
from qcloud_cos import CosS3Client, CosServiceError

from tests.live import APPID, REGION, ROOT, LiveKinko, cos_client, node_env

MiB = 1024 * 1024

crc64ecma_of = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def crc64ecma(data: bytes) -> str:
    """x-cos-hash-crc64ecma of `data`: CRC-64/ECMA-182 as a decimal string."""
    return str(crc64ecma_of(data))


def body_of(result: dict) -> bytes:
    return result["Body"].get_raw_stream().read()


def virtual_host(bucket: str, region: str = REGION) -> str:
    return f"{bucket}.cos.{region}.myqcloud.com"


def object_url(bucket: str, key: str = "") -> str:
    """The absolute URL of a bucket or object, as a browser (or the proxy-mode SDK) addresses it."""
    return f"http://{virtual_host(bucket)}/{quote(key, safe='/-_.~')}"


def proxies(kinko: LiveKinko) -> dict[str, str]:
    return {"http": kinko.url}


def anonymous(kinko: LiveKinko, method: str, bucket: str, key: str = "", **kwargs) -> requests.Response:
    """A plain request without Authorization, through the proxy listener (absolute-form, real Host)."""
    return requests.request(method, object_url(bucket, key), proxies=proxies(kinko), timeout=10, **kwargs)


def error_code(response: requests.Response) -> str | None:
    """The <Code> of a COS <Error> body."""
    root = ET.fromstring(response.content)  # noqa: S314 - the test server's own response
    assert root.tag == "Error", response.content
    return root.findtext("Code")


def service_error(err: CosServiceError) -> tuple[int, str]:
    return err.get_status_code(), err.get_error_code()


def files_under(directory: Path) -> set[Path]:
    return {path for path in directory.rglob("*") if path.is_file()} if directory.exists() else set()


def blob_files(kinko: LiveKinko) -> set[Path]:
    """The committed blob files of the live server (<data dir>/objects/<xx>/<id>; temp files excluded). Blobs are
    encrypted at rest, so a test finds the file of what it stored by comparing this set before and after."""
    return {path for path in files_under(kinko.data_dir / "objects") if path.parent.name != "tmp"}


def existing(paths: set[Path]) -> set[Path]:
    return {path for path in paths if path.exists()}


def new_bucket(client: CosS3Client, appid: str = APPID, **kwargs) -> str:
    name = f"x{uuid.uuid4().hex[:12]}-{appid}"
    client.create_bucket(Bucket=name, **kwargs)
    return name


def empty_and_delete(client: CosS3Client, bucket: str) -> None:
    """Abort the bucket's uploads, delete its objects, then the bucket."""
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Upload", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    keys = [item["Key"] for item in client.list_objects(Bucket=bucket, MaxKeys=1000).get("Contents", [])]
    for key in keys:
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)


def manage(kinko: LiveKinko, *args: str, **env: str) -> str:
    """Run `manage.py` against the live server's data directory (its database and object store)."""
    full_env = node_env(kinko.data_dir, KINKO_APPID=kinko.appid, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, check=True, capture_output=True, text=True
    ).stdout


def age_rows(kinko: LiveKinko, bucket: str, model: str, field: str, keys: list[str], days: int) -> None:
    """Move the `field` (last_modified, initiated_at) of the bucket's `model` rows with these keys `days` into the
    past, in the live server's database."""
    script = (
        f"import datetime; from django.utils import timezone; from buckets.models import {model}; "
        f"{model}.objects.filter(bucket__name={bucket!r}, key__in={keys!r})"
        f".update({field}=timezone.now() - datetime.timedelta(days={days}))"
    )
    manage(kinko, "shell", "-c", script)


@dataclass(frozen=True)
class OtherAccount:
    appid: str
    uin: str
    secret_id: str
    secret_key: str

    def client(self, kinko: LiveKinko, **config) -> CosS3Client:
        return cos_client(kinko, secret_id=self.secret_id, secret_key=self.secret_key, **config)


CREATE_ACCOUNT = """
import json
from roles import service
account = service.create_account({appid!r})
key = service.create_api_key(account, {secret_id!r}, {secret_key!r})
print(json.dumps({{"appid": account.appid, "uin": account.uin}}))
"""


_other_accounts: dict[Path, OtherAccount] = {}


def other_account(kinko: LiveKinko) -> OtherAccount:
    """A second account with its own API key, created once per server in the server's database."""
    if kinko.data_dir in _other_accounts:
        return _other_accounts[kinko.data_dir]
    appid = str(1300000000 + uuid.uuid4().int % 100000000)
    secret_id = "AKIDother" + uuid.uuid4().hex
    secret_key = uuid.uuid4().hex
    script = CREATE_ACCOUNT.format(appid=appid, secret_id=secret_id, secret_key=secret_key)
    created = json.loads(manage(kinko, "shell", "-c", script).strip().splitlines()[-1])
    account = OtherAccount(created["appid"], created["uin"], secret_id, secret_key)
    _other_accounts[kinko.data_dir] = account
    return account
