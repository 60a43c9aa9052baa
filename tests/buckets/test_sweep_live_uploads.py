"""The orphan sweep never touches a live upload, however long its body takes; crash leftovers go."""

import os
import time

from buckets import housekeeping, storage

DAY = 86400


def test_the_sweep_keeps_the_temp_file_of_an_upload_still_in_progress(db, settings, tmp_path):
    writer = storage.BlobWriter()
    writer.write(b"first bytes of a slow upload")
    temp = storage.root() / storage.TMP_DIR / f"{writer.blob_id}.part"
    old = time.time() - DAY
    os.utime(temp, (old, old))  # no byte arrived for a day: only its lock says it is alive
    assert housekeeping.collect_orphan_blobs(older_than_seconds=600) == 0
    writer.write(b" and the rest")
    assert storage.blob_path(writer.commit()).exists()


def test_the_orphan_grace_defaults_to_minutes_not_an_hour():
    from django.conf import settings

    assert settings.KINKO_ORPHAN_GRACE_SECONDS == 600
