"""Text for log lines."""


def printable(text: str) -> str:
    """`text` with control, separator and unpaired surrogate characters backslash-escaped, so a key or a path
    cannot forge or colour log lines."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text)
