"""Metadata header names with `_` (x-cos-meta-my_field), carried past WSGI without ambiguity.

WSGI names a header HTTP_<NAME with - as _>, so `x-cos-meta-a_b` and `x-cos-meta-a-b` would share one key and
gunicorn merges them (or, by default, drops the underscored one). gunicorn runs with `--header-map dangerous`, and
its pre_request hook (console.gunicorn_hooks) calls `carry`: every underscored x-cos-meta-* header moves, with its
exact name, into one header of its own; every other underscored header is dropped as before; a client's own copy of
that header is dropped first, so only the hook can set it."""

from urllib.parse import parse_qsl, quote

CARRIER = "X-KINKO-UNDERSCORED-META"  # gunicorn's upper-case spelling of header names
CARRIER_ENVIRON = "HTTP_" + CARRIER.replace("-", "_")
PREFIX = "X-COS-META-"


def carry(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """gunicorn's request headers (upper-case name, Latin-1 value), rewritten as the module docstring says."""
    kept, carried = [], []
    for name, value in headers:
        if name == CARRIER:
            continue
        if "_" not in name:
            kept.append((name, value))
        elif name.startswith(PREFIX):
            carried.append(f"{quote(name.lower(), safe='')}={quote(value.encode('latin-1'), safe='')}")
    if carried:
        kept.append((CARRIER, "&".join(carried)))
    return kept


def carried(environ_value: str) -> list[tuple[str, str]]:
    """The (lower-case name, Latin-1 value) pairs `carry` put in its header."""
    return parse_qsl(environ_value, keep_blank_values=True, encoding="latin-1")
