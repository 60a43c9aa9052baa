"""The API 3.0 error type, shared by tcapi (which renders it) and the keys and roles error modules."""


class ApiError(Exception):
    """An API 3.0 error: `code` as Tencent spells it; rendered as {"Response": {"Error": …}}."""

    code = "InternalError"
    message = "An internal error occurred."

    def __init__(self, message: str | None = None, code: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code is not None:
            self.code = code


def error(code: str, message: str) -> ApiError:
    return ApiError(message, code=code)
