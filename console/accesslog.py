"""gunicorn's access log with every field escaped: a request path (decoded, so `%0D%0A` is a real CR LF) cannot
start a forged line or send terminal escapes."""

from gunicorn.glogging import Logger


def printable(text: str) -> str:
    """`text` with control, separator and unpaired surrogate characters backslash-escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text)


class EscapingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: printable(value) if isinstance(value, str) else value for name, value in atoms.items()}
