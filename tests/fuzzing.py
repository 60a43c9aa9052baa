"""What the property-based (hypothesis) tests of the three edges share: one settings profile, one loop that sends
each generated case and checks its answer and the live server's log, a count of the cases each edge ran (reported
at the end of the run, see conftest.py), and the JSON values the JSON edges fill their bodies with.

`make test` runs the generated cases derandomized: the same cases on every run and every machine, so a red build
always means the code changed, and a failure is reproduced by running the test again. Exploring further is a
separate, deliberate step: `KINKO_FUZZ_RANDOM=1 KINKO_FUZZ_EXAMPLES=2000 pytest tests/.../test_fuzz_*.py` draws
fresh random cases (and shrinks a failure to its smallest form); what it finds becomes a regular regression test
before it is fixed."""

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

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


def send_cases(
    edge: str,
    profile: settings,
    cases: st.SearchStrategy,
    send: Callable,
    check: Callable,
    log_path: Path,
    record_property: Callable,
) -> None:
    """Send each case `cases` generates (`send(case)` → response), `check(case, response)` it, and find no traceback
    in what the server logged meanwhile; count the cases sent under `edge`, and fail if fewer ran than `profile`
    asks."""
    log = LogWatch(log_path)
    sent = 0

    @profile
    @given(case=cases)
    def exchange(case):
        nonlocal sent
        note(repr(case))
        response = send(case)
        sent += 1
        check(case, response)
        written = log.new()
        assert no_traceback(written), written[-3000:]

    exchange()
    CASES[edge] += sent
    record_property("fuzz_cases", sent)
    assert sent >= profile.max_examples, f"only {sent} {edge} cases ran"


def json_scalars(words: list[str]) -> st.SearchStrategy:
    """JSON scalars of every type: null, booleans, integers (huge ones too), floats, text and the edge's `words`."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(10**40), 10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from(words),
    )


def json_values(scalars: st.SearchStrategy) -> st.SearchStrategy:
    """`scalars`, and lists and objects of them nested a little."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
        max_leaves=15,
    )


def nested(depth: int) -> str:
    """A JSON array `depth` levels deep."""
    return "[" * depth + "]" * depth
