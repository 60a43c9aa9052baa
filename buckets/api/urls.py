"""COS XML routing: which requests are COS requests, the bucket and region from Host, the key from the path."""

import re
from dataclasses import dataclass

# <bucket>.cos.<region>.<any domain> (also cos-internal.<region>.tencentcos.cn); bucket = first DNS label.
BUCKET_HOST = re.compile(r"^(?P<bucket>[^.]+)\.cos(?:-internal)?\.(?P<region>[a-z0-9-]+)\.[^:]+$", re.IGNORECASE)
SERVICE_HOST = re.compile(r"^service\.cos(?:-internal)?\.[^:]+$", re.IGNORECASE)


@dataclass(frozen=True)
class CosTarget:
    """A COS request's addressee. `bucket` is None for GET Service; `key` is "" for bucket operations."""

    host: str
    bucket: str | None
    region: str | None
    key: str

    @property
    def resource(self) -> str:
        return f"{self.host}/{self.key}"


def _is_signed(meta: dict, query_string: str) -> bool:
    return meta.get("HTTP_AUTHORIZATION", "").startswith("q-sign-algorithm") or "q-sign-algorithm=" in query_string


def resolve(meta: dict, path: str) -> CosTarget | None:
    """The COS target of a request, or None when the request is for the console, JSON API or API 3.0."""
    host = meta.get("HTTP_HOST", "")
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if SERVICE_HOST.match(hostname):
        return CosTarget(host=hostname, bucket=None, region=None, key="")
    match = BUCKET_HOST.match(hostname)
    if match:
        return CosTarget(host=hostname, bucket=match["bucket"].lower(), region=match["region"].lower(), key=path[1:])
    # GET Service on a plain address (CosConfig(ServiceDomain="127.0.0.1:8000")).
    if path == "/" and meta.get("REQUEST_METHOD") == "GET" and _is_signed(meta, meta.get("QUERY_STRING", "")):
        return CosTarget(host=hostname, bucket=None, region=None, key="")
    return None
