"""gunicorn's access log with every field escaped: a request path (decoded, so `%0D%0A` is a real CR LF) cannot
start a forged line or send terminal escapes. It sees every answered request once its last byte is sent, so it is
also where the request metrics are recorded (core.metrics)."""

from gunicorn.glogging import Logger

from core import metrics
from core.text import printable


class EscapingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: printable(value) if isinstance(value, str) else value for name, value in atoms.items()}

    def access(self, resp, req, environ, request_time) -> None:
        # gunicorn's own answer to a malformed request (handle_error) sets only `status`, e.g. "400 Bad Request".
        status = getattr(resp, "status_code", None) or int(str(resp.status or "0").split()[0])
        metrics.observe_request(environ, status, request_time.total_seconds(), resp.sent)
        super().access(resp, req, environ, request_time)
