"""TLS material for KINKO_HTTPS_PORT: the operator's KINKO_TLS_CERT/KINKO_TLS_KEY, else a development CA generated
once into <data dir>/tls/ and a leaf certificate for localhost, 127.0.0.1 and the COS host names of every region."""

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core import crypto

CA_DAYS = 3650
LEAF_DAYS = 825


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path | None  # None for operator-supplied certificates


def server_names(regions: list[str]) -> list[str]:
    names = ["localhost", "service.cos.myqcloud.com", "service.cos.tencentcos.cn"]
    for region in regions:
        names += [f"*.cos.{region}.myqcloud.com", f"*.cos.{region}.tencentcos.cn"]
    return names


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def ensure_tls_files() -> TlsFiles:
    cert, key = os.environ.get("KINKO_TLS_CERT"), os.environ.get("KINKO_TLS_KEY")
    if cert or key:
        if not (cert and key):
            raise ImproperlyConfigured("Set both KINKO_TLS_CERT and KINKO_TLS_KEY, or neither.")
        return TlsFiles(Path(cert), Path(key), None)
    folder = Path(settings.DATA_DIR) / "tls"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert, ca_key = folder / "ca.pem", folder / "ca.key"
    if not ca_cert.exists() or not ca_key.exists():
        cert_pem, key_pem = crypto.make_ca("Kinko development CA", CA_DAYS)
        _write(ca_key, key_pem, 0o600)
        _write(ca_cert, cert_pem, 0o600)
    leaf_cert, leaf_key = folder / "server.pem", folder / "server.key"
    wanted = set(server_names(settings.KINKO_REGIONS)) | {"127.0.0.1", "::1"}
    # A leaf is re-issued when the configured regions change, so every bucket host name stays covered.
    if not leaf_cert.exists() or not leaf_key.exists() or crypto.certificate_names(leaf_cert.read_bytes()) != wanted:
        cert_pem, key_pem = crypto.make_leaf(
            ca_cert.read_bytes(),
            ca_key.read_bytes(),
            server_names(settings.KINKO_REGIONS),
            ["127.0.0.1", "::1"],
            LEAF_DAYS,
        )
        _write(leaf_key, key_pem, 0o600)
        _write(leaf_cert, cert_pem, 0o600)
    return TlsFiles(leaf_cert, leaf_key, ca_cert)
