"""The SSE-COS service master key: versioned, sealed under the root key, cached per process once unsealed."""

import functools
import time

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core import crypto, keystore
from core.db import serialize
from keys.models import ServiceMasterKey

INFO = b"kinko/sse-cos/master"


def _purpose(version: int) -> bytes:
    return f"sse-cos-master:{version}".encode()


def _create(version: int) -> ServiceMasterKey:
    material = crypto.random_bytes(crypto.KEY_BYTES)
    return ServiceMasterKey.objects.create(
        version=version, material_sealed=keystore.seal_secret(material, _purpose(version))
    )


_current: tuple[float, int] | None = None
CURRENT_TTL_SECONDS = 60.0


def current_version() -> int:
    """The newest live version (cached a minute: wrapping under a just-superseded version is fine, since a
    version is retired only an hour after it is superseded)."""
    global _current
    now = time.monotonic()
    if _current is None or now - _current[0] > CURRENT_TTL_SECONDS:
        _current = (now, _newest_version())
    return _current[1]


def _newest_version() -> int:
    """The newest live version, created as version 1 the first time it is needed."""
    newest = ServiceMasterKey.objects.filter(retired_at__isnull=True).aggregate(Max("version"))["version__max"]
    if newest is not None:
        return newest
    try:
        with transaction.atomic():
            return _create(1).version
    except IntegrityError:  # another process created it first
        return ServiceMasterKey.objects.filter(retired_at__isnull=True).aggregate(Max("version"))["version__max"]


@functools.lru_cache(maxsize=16)
def material(version: int) -> bytes:
    row = ServiceMasterKey.objects.filter(version=version, retired_at__isnull=True).first()
    if row is None:
        raise LookupError(f"SSE-COS master key version {version} does not exist")
    return keystore.unseal_secret(bytes(row.material_sealed), _purpose(version))


def wrap(data_key: bytes, identity: bytes) -> tuple[int, bytes]:
    """Wrap under the newest live version (data keys of new objects, and re-wraps during rotation)."""
    version = current_version()
    return version, crypto.seal(material(version), data_key, identity)


def unwrap(version: int, wrapped: bytes, identity: bytes) -> bytes:
    return crypto.unseal(material(version), wrapped, identity)


@transaction.atomic
def add_version() -> int:
    global _current
    serialize("sse-cos-master-key-versions")  # two rotations at once number their versions one after the other
    newest = ServiceMasterKey.objects.aggregate(Max("version"))["version__max"] or 0
    version = _create(newest + 1).version
    _current = None
    return version


def forget_cached_keys() -> None:
    global _current
    _current = None
    material.cache_clear()


def retire(version: int) -> None:
    """Destroy a version's material once no data key names it any more."""
    ServiceMasterKey.objects.filter(version=version).update(retired_at=timezone.now(), material_sealed=b"")
    material.cache_clear()


def superseded_versions(before) -> list[int]:
    """Live versions that a newer version replaced before `before` (so no write still in flight can use them)."""
    newer = ServiceMasterKey.objects.filter(created_at__lt=before).aggregate(Max("version"))["version__max"]
    if newer is None:
        return []
    return list(
        ServiceMasterKey.objects.filter(retired_at__isnull=True, version__lt=newer).values_list("version", flat=True)
    )
