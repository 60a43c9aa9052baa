"""SSE-COS master-key rotation benchmark: `buckets.rotation.rotate_master_key` re-wrap time against object count
and recorded object size.

Rotation adds a master-key version and re-wraps every data key the older versions wrap (unwrap + wrap of 32 bytes
per blob, in batches of rows); it never reads or rewrites object data. So its cost should grow with the number of
objects and not at all with their bytes. This script shows both:

* It is a Django process itself (DJANGO_SETTINGS_MODULE=console.settings, KINKO_DATA_DIR = a fresh temp dir,
  `migrate`), with the root account and one bucket.
* For each --counts N (default 10,000 and 100,000) it bulk-creates N SSE-COS StoredObject rows whose data keys are
  wrapped by `keys.master.wrap` (with the identity buckets/sse.py binds: bucket, key, blob id). Blob files need not
  exist, since rotation never reads data; a few sentinel blob files are written anyway, for the check below.
* It then times `rotate_master_key()` with the rows' recorded `size_bytes` set to each of --sizes in turn (default
  4 KiB, 1 GiB, 10 GiB per object: tiny, large, and 10x larger), for --rounds rounds (the size order alternates),
  and reports the median seconds and objects/s per count and size, plus the time relative to the tiny size.
* During every rotation an audit hook records any file-system event on a path under STORAGE_ROOT (open, remove,
  rename, utime, ...), and the tree under STORAGE_ROOT (names, sizes, mtimes, SHA-256) is compared before and after:
  the benchmark fails if rotation touched object data. Each rotation must also re-wrap exactly N data keys, and a
  sample of rows must unwrap under the new version afterwards.

Usage: .venv/bin/python bench/rotation.py [--counts 10000,100000] [--sizes 4K,1G,10G] [--rounds 2] [--json]
Progress goes to stderr; the table (or JSON) to stdout. The temp data dir is removed on exit and on Ctrl-C.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import APPID, REGION, ROOT, cell, format_table, log, median, run_benchmark

SENTINELS = 32  # rows that get a real blob file, for the no-data-access check
CREATE_BATCH = 5000
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
FILE_EVENTS = {
    "open",
    "os.remove",
    "os.rename",
    "os.truncate",
    "os.utime",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.symlink",
    "os.mkdir",
    "os.rmdir",
    "os.listdir",
    "os.scandir",
    "shutil.copyfile",
    "shutil.copymode",
    "shutil.copystat",
    "shutil.move",
    "shutil.rmtree",
}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1] if text and text[-1] in UNITS else ""
    return int(text.removesuffix(unit)) * UNITS[unit] if unit else int(text)


def human(size: int) -> str:
    """1024-based, at most 3 significant digits: 4 KiB, 1 GiB, 7.81 MiB, 19.5 TiB."""
    for unit in ("T", "G", "M", "K"):
        if size >= UNITS[unit]:
            value = size / UNITS[unit]
            return f"{value:.3g} {unit}iB" if value < 1000 else f"{value:.0f} {unit}iB"
    return f"{size} B"


def setup_django(data_dir: Path) -> None:
    """Become a Kinko Django process on a fresh data dir (settings read the environment once, at import)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ["KINKO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("KINKO_APPID", APPID)
    os.environ.pop("DATABASE_URL", None)  # the throwaway SQLite database in the data dir, never a configured one
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


# -- the no-data-access check ------------------------------------------------------------------------------


class FileWatch:
    """An audit hook (installed once; hooks cannot be removed) that records file-system events under `root` while
    armed."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.armed = False
        self.events: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if not self.armed or event not in FILE_EVENTS:
            return
        for arg in args:
            if isinstance(arg, bytes):
                arg = os.fsdecode(arg)
            if isinstance(arg, os.PathLike):
                arg = os.fspath(arg)
            if isinstance(arg, str) and os.path.abspath(arg).startswith(self.root):
                self.events.append(f"{event} {arg}")
                return

    @contextmanager
    def armed_for(self) -> Iterator[list[str]]:
        self.events = []
        self.armed = True
        try:
            yield self.events
        finally:
            self.armed = False


def tree_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime_ns, sha256) of every file under root."""
    state = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            state[str(path)] = (stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return state


# -- rows -------------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    bucket: Any
    count: int
    sentinel_blobs: list[str] = field(default_factory=list)


def create_objects(count: int) -> Fixture:
    """A new bucket with `count` SSE-COS rows (data keys wrapped by keys.master.wrap), created in bulk."""
    from buckets import sse, storage
    from buckets.models import Bucket, SseMode, StoredObject
    from keys import master
    from roles import service as roles

    _delete_all_objects()  # the previous count's rows: every rotation re-wraps all rows
    bucket = Bucket.objects.create(
        name=f"rot{uuid.uuid4().hex[:12]}-{APPID}", owner=roles.root_account(), region=REGION
    )
    fixture = Fixture(bucket, count)
    start = time.perf_counter()
    for first in range(0, count, CREATE_BATCH):
        rows = []
        for index in range(first, min(count, first + CREATE_BATCH)):
            key, blob = f"objects/{index:08d}", uuid.uuid4().hex
            version, wrapped = master.wrap(os.urandom(32), sse.identity(bucket.name, key, blob))
            rows.append(
                StoredObject(
                    bucket=bucket,
                    key=key,
                    size_bytes=0,
                    etag=hashlib.md5(key.encode()).hexdigest(),
                    crc64="0",
                    sse=SseMode.COS,
                    blob=blob,
                    wrapped_key=wrapped,
                    kek_version=version,
                )
            )
            if index < SENTINELS:
                fixture.sentinel_blobs.append(blob)
        StoredObject.objects.bulk_create(rows, batch_size=500)
    for blob in fixture.sentinel_blobs:
        path = storage.blob_path(blob)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(4096))
    log(f"{count} rows created in {time.perf_counter() - start:.1f} s")
    return fixture


def _delete_all_objects() -> None:
    from django.db import connection

    from buckets.models import ObjectSegment, StoredObject

    with connection.cursor() as cursor:
        for model in (ObjectSegment, StoredObject):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 - a model's own table name


def set_sizes(fixture: Fixture, size: int) -> None:
    from buckets.models import StoredObject

    StoredObject.objects.filter(bucket=fixture.bucket).update(size_bytes=size)


def check_unwraps(fixture: Fixture, version: int) -> None:
    """A sample of rows must be wrapped by the new version and unwrap under it."""
    from buckets import sse
    from buckets.models import StoredObject
    from keys import master

    rows = StoredObject.objects.filter(bucket=fixture.bucket).order_by("?")[:50]
    for row in rows:
        if row.kek_version != version:
            raise RuntimeError(f"{row.key} is still wrapped by v{row.kek_version}, not v{version}")
        master.unwrap(row.kek_version, bytes(row.wrapped_key), sse.identity(fixture.bucket.name, row.key, row.blob))


def timed_rotation(fixture: Fixture, size: int, watch: FileWatch, storage_root: Path) -> dict[str, Any]:
    from buckets import rotation

    set_sizes(fixture, size)
    before = tree_state(storage_root)
    with watch.armed_for() as events:
        start = time.perf_counter()
        done = rotation.rotate_master_key()
        seconds = time.perf_counter() - start
    if events:
        raise RuntimeError(f"rotation touched object data: {events[:5]}")
    if (after := tree_state(storage_root)) != before:
        changed = sorted(set(after.items()) ^ set(before.items()))[:5]
        raise RuntimeError(f"files under STORAGE_ROOT changed during rotation: {changed}")
    if done.rewrapped != fixture.count:
        raise RuntimeError(f"rotation re-wrapped {done.rewrapped} data keys, expected {fixture.count}")
    check_unwraps(fixture, done.version)
    log(
        f"{fixture.count:>8} objects x {human(size):>8}: {seconds:7.2f} s  {fixture.count / seconds:9.0f} objects/s"
        f"  (v{done.version})"
    )
    return {"seconds": seconds, "version": done.version, "retired": done.retired}


def self_test(watch: FileWatch, storage_root: Path) -> None:
    """The audit hook must see a read of a blob file, or its silence proves nothing."""
    probe = storage_root / "probe"
    probe.write_bytes(b"x")
    with watch.armed_for() as events:
        probe.read_bytes()
    probe.unlink()
    if not events:
        raise RuntimeError("the file-access audit hook saw nothing: the no-data-access check would be blind")


# -- report -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    config: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps({"config": self.config, "rows": self.rows}, indent=2)

    def table(self) -> str:
        header = ["objects", "size each", "recorded total", "seconds", "objects/s", "x tiny"]
        rows = [
            [
                str(row["objects"]),
                human(row["size_bytes"]),
                human(row["size_bytes"] * row["objects"]),
                cell(row["seconds"], 2),
                cell(row["objects_per_s"], 0),
                cell(row["vs_first_size"], 2),
            ]
            for row in self.rows
        ]
        config = self.config
        title = (
            f"SSE-COS master-key rotation (rotate_master_key) on SQLite: median of {config['rounds']} round(s); "
            "x tiny = seconds / seconds at the first size.\nNo file under STORAGE_ROOT was opened or changed "
            "(audit hook + before/after tree comparison)."
        )
        return f"{title}\n{format_table(header, rows)}"


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    data_dir = workdir / "kinko-data"
    log(f"migrating a throwaway Kinko database in {data_dir}")
    setup_django(data_dir)
    from django.conf import settings
    from django.db import connections

    stack.callback(connections.close_all)
    storage_root = Path(settings.STORAGE_ROOT)
    storage_root.mkdir(parents=True, exist_ok=True)
    watch = FileWatch(storage_root)
    self_test(watch, storage_root)
    report = Report(config={"counts": args.counts, "sizes": args.sizes, "rounds": args.rounds, "database": "sqlite"})
    for count in args.counts:
        fixture = create_objects(count)
        seconds: dict[int, list[float]] = {size: [] for size in args.sizes}
        for round_index in range(args.rounds):
            order = args.sizes if round_index % 2 == 0 else args.sizes[::-1]
            for size in order:
                seconds[size].append(timed_rotation(fixture, size, watch, storage_root)["seconds"])
        first = median(seconds[args.sizes[0]])
        for size in args.sizes:
            value = median(seconds[size])
            report.rows.append(
                {
                    "objects": count,
                    "size_bytes": size,
                    "seconds": value,
                    "objects_per_s": count / value,
                    "vs_first_size": value / first,
                    "rounds_seconds": seconds[size],
                }
            )
    return report


def print_report(report: Report, as_json: bool) -> None:
    print(report.as_json() if as_json else report.table())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="10000,100000", help="object counts (default 10000,100000)")
    parser.add_argument("--sizes", default="4K,1G,10G", help="recorded bytes per object (default 4K,1G,10G)")
    parser.add_argument("--rounds", type=int, default=2, help="rotations per count and size (default 2)")
    parser.add_argument("--tmp-dir", help="parent of the temp data dir (default: system temp)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        args.counts = [int(value) for value in args.counts.split(",")]
        args.sizes = [parse_size(value) for value in args.sizes.split(",")]
    except (ValueError, KeyError):
        parser.error("--counts are integers, --sizes integers with an optional K, M, G or T suffix")
    if min(*args.counts, *args.sizes, args.rounds) < 1:
        parser.error("counts, sizes and rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), run, print_report, prefix="kinko-rotation-")


if __name__ == "__main__":
    sys.exit(main())
