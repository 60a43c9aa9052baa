"""SSE-COS master-key rotation: a new master version, every data key it wraps (of every object version) re-wrapped
in batches, old versions retired once nothing names them. Object data is never read or rewritten."""

import datetime
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from keys import master

from . import sse
from .models import ObjectSegment, Part, StoredObject

log = logging.getLogger(__name__)

BATCH = 500
RETIRE_GRACE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Rotation:
    version: int
    rewrapped: int
    retired: list[int]


def _identity_of(record) -> bytes:
    if isinstance(record, StoredObject):
        return sse.identity(record.bucket.name, record.key, record.blob)
    if isinstance(record, ObjectSegment):
        return sse.identity(record.obj.bucket.name, record.obj.key, record.blob)
    return sse.identity(record.upload.bucket.name, record.upload.key, record.blob)


def _save_wrapped_keys(model, records: list) -> None:
    """One prepared UPDATE per row (executemany): bulk_update builds a CASE per row and is several times slower."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET kek_version = %s, wrapped_key = %s WHERE id = %s",  # noqa: S608 - a model's table
            [(record.kek_version, record.wrapped_key, record.pk) for record in records],
        )


def _rewrap(queryset, version: int) -> int:
    """Re-wrap, batch by batch, the data keys of one kind of row that an older master version wraps."""
    done = 0
    while True:
        with transaction.atomic():
            batch = list(queryset.filter(kek_version__lt=version).select_for_update(of=("self",))[:BATCH])
            for record in batch:
                identity = _identity_of(record)
                data_key = master.unwrap(record.kek_version, bytes(record.wrapped_key), identity)
                record.kek_version, record.wrapped_key = master.wrap(data_key, identity)
            if batch:
                _save_wrapped_keys(queryset.model, batch)
        done += len(batch)
        if len(batch) < BATCH:
            return done


def rotate_master_key() -> Rotation:
    """Add a master version, re-wrap every data key to it, then retire the versions nothing uses any more."""
    version = master.add_version()
    rewrapped = (
        _rewrap(StoredObject.versions.filter(part_count=0).select_related("bucket"), version)
        + _rewrap(ObjectSegment.objects.select_related("obj__bucket"), version)
        + _rewrap(Part.objects.select_related("upload__bucket"), version)
    )
    retired = retire_unused_versions()
    log.info("SSE-COS master key rotated to v%d: %d data key(s) re-wrapped, retired %s", version, rewrapped, retired)
    return Rotation(version, rewrapped, retired)


def retire_unused_versions(now: datetime.datetime | None = None) -> list[int]:
    """Retire versions no data key names. A version is only considered once it has been superseded for longer
    than a request can run, so a PUT that wrapped its key under it just before the rotation is not orphaned."""
    cutoff = (now or timezone.now()) - RETIRE_GRACE
    in_use = set()
    for rows in (StoredObject.versions, ObjectSegment.objects, Part.objects):
        in_use.update(rows.exclude(kek_version=None).values_list("kek_version", flat=True).distinct())
    retired = [v for v in master.superseded_versions(cutoff) if v not in in_use]
    for version in retired:
        master.retire(version)
    return retired
