"""What the property-based (hypothesis) tests of the three edges share: one settings profile, a watch on the
live server's log, and a count of the cases each edge ran (reported at the end of the run, see conftest.py).

`make test` runs the generated cases derandomized: the same cases on every run and every machine, so a red build
always means the code changed, and a failure is reproduced by running the test again. Exploring further is a
separate, deliberate step: `KINKO_FUZZ_RANDOM=1 KINKO_FUZZ_EXAMPLES=2000 pytest tests/.../test_fuzz_*.py` draws
fresh random cases (and shrinks a failure to its smallest form); what it finds becomes a regular regression test
before it is fixed."""

import os
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

RANDOM = os.environ.get("KINKO_FUZZ_RANDOM") == "1"
CASES: Counter[str] = Counter()  # requests sent, by edge, over the whole run


def fuzz_settings(examples: int) -> settings:
    """`examples` cases (or KINKO_FUZZ_EXAMPLES), derandomized unless KINKO_FUZZ_RANDOM=1. No example database
    (nothing written into the tree) and no deadline (a live server on shared cores has no steady latency)."""
    return settings(
        max_examples=int(os.environ.get("KINKO_FUZZ_EXAMPLES", examples)),
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if RANDOM else [])],
        print_blob=RANDOM,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
        ],
    )


class LogWatch:
    """The part of a server log written since the watch started (or since the last look)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def new(self) -> str:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            written = log.read()
        self.offset += len(written)
        return written.decode(errors="replace")


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and "RecursionError" not in text
