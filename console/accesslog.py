"""gunicorn's access log with every field escaped: a request path (decoded, so `%0D%0A` is a real CR LF) cannot
start a forged line or send terminal escapes."""

from gunicorn.glogging import Logger

from core.text import printable


class EscapingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: printable(value) if isinstance(value, str) else value for name, value in atoms.items()}
