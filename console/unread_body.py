"""A request answered before its body was read (a refused signature, a missing bucket, a 501) keeps the client's
connection usable: what is left of the body, up to DRAIN_BYTES, is read and dropped after the response; more than
that, or a chunked body not read to its end, and the response says `Connection: close`.

gunicorn itself drains only 64 KiB after a response that promised keep-alive, then drops the connection, which a
client's pool only finds out on its next request (a reset). WSGI middleware around Django's application."""

import threading

DRAIN_BYTES = 1024 * 1024
_current = threading.local()


def remember_request(request) -> None:
    """gunicorn's pre_request hook: the request this thread now serves, to close its connection if need be."""
    _current.request = request


def _close_connection() -> None:
    request = getattr(_current, "request", None)
    if request is not None:
        request.must_close = True  # gunicorn then answers `Connection: close` and closes after the response


class CountingInput:
    """wsgi.input, counting what the application read and whether it reached the end."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.read_bytes = 0
        self.at_end = False

    def _seen(self, data: bytes, asked: int | None) -> bytes:
        self.read_bytes += len(data)
        if not data and asked != 0:
            self.at_end = True
        return data

    def read(self, size: int | None = None) -> bytes:
        data = self.stream.read() if size is None or size < 0 else self.stream.read(size)
        return self._seen(data, size)

    def readline(self, size: int | None = None) -> bytes:
        data = self.stream.readline() if size is None else self.stream.readline(size)
        return self._seen(data, size)

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")


class _DrainAfter:
    """The response iterable; closing it reads the rest of the request body (within the bound)."""

    def __init__(self, result, stream: CountingInput, left: int) -> None:
        self.result, self.stream, self.left = result, stream, left

    def __iter__(self):
        return iter(self.result)

    def close(self) -> None:
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            left = self.left
            while left > 0:
                data = self.stream.read(min(65536, left))
                if not data:
                    break
                left -= len(data)


class FinishUnreadBodies:
    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0 and not chunked:
            return self.application(environ, start_response)
        stream = CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = stream
        decided = {}

        def start(status, headers, exc_info=None):
            left = None if chunked else max(0, length - stream.read_bytes)
            if (left is None and not stream.at_end) or (left is not None and left > DRAIN_BYTES):
                _close_connection()
                left = 0
            decided["left"] = left or 0
            return start_response(status, headers, exc_info)

        result = self.application(environ, start)
        left = decided.get("left", 0)
        return _DrainAfter(result, stream, left) if left else result
