"""JSON API errors: one shape, `{"code": <stable code>, "detail": <sentence>}`, with the HTTP status of the error.
A refused request body adds `"fields": {<field>: [<message>, …]}`.

COS errors keep their COS code and status; API 3.0 (KMS, CAM) errors their Tencent code (400, or 403 for
authorization and 404 for missing resources); a refusal of the gate is 403 `AuthFailure.UnauthorizedOperation`;
DRF's own errors are named in the same CamelCase (ERROR_CODES): a refused body or query value is 400
`InvalidParameter`, an unknown route or resource 404 `NotFound`, a method the route lacks 405 `MethodNotAllowed`.
These codes are a contract (docs/operations.md lists them): change none.
"""

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

import gate
from buckets import service, storage
from buckets.errors import CosError
from core.apierror import ApiError

DENIED = "AuthFailure.UnauthorizedOperation"
# DRF's error codes, in the vocabulary of the API's other codes.
ERROR_CODES = {
    "invalid": "InvalidParameter",
    "parse_error": "InvalidParameter",
    "not_found": "NotFound",
    "method_not_allowed": "MethodNotAllowed",
    "not_acceptable": "NotAcceptable",
    "unsupported_media_type": "UnsupportedMediaType",
    "not_authenticated": "AuthFailure.TokenMissing",
    "authentication_failed": "AuthFailure.InvalidToken",
    "invalid_token": "AuthFailure.InvalidToken",
    "permission_denied": DENIED,
}


class InvalidParameter(exceptions.APIException):
    """A query parameter out of range: 400 naming the parameter."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, name: str, message: str) -> None:
        super().__init__({name: [message]})


def api_error_status(code: str) -> int:
    if code.startswith("AuthFailure") or code.startswith("UnauthorizedOperation"):
        return status.HTTP_403_FORBIDDEN
    if "NotFound" in code or "NotExist" in code:
        return status.HTTP_404_NOT_FOUND
    return status.HTTP_400_BAD_REQUEST


def _messages(detail, path: str = "") -> dict[str, list[str]]:
    """A DRF detail tree flattened to {"a.b": [messages]} (list items as their index)."""
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        items = ((str(index), item) for index, item in enumerate(detail))
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {path or "non_field_errors": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for name, child in items:
        flat.update(_messages(child, f"{path}.{name}" if path else str(name)))
    return flat


def _first_code(detail) -> str:
    while isinstance(detail, (dict, list)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return getattr(detail, "code", None) or "invalid"


def handle_exception(exc, context):
    if isinstance(exc, gate.Denied):
        return Response({"code": DENIED, "detail": exc.reason}, status=status.HTTP_403_FORBIDDEN)
    if service.database_full(exc):
        exc = storage.no_space(exc, service.DATABASE_FULL_MESSAGE)  # a write the full disk refused: 503
    if isinstance(exc, CosError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    if isinstance(exc, ApiError):
        return Response({"code": exc.code, "detail": exc.message}, status=api_error_status(exc.code))
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, (exceptions.ValidationError, InvalidParameter)):
        fields = _messages(response.data)
        detail = " ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        response.data = {"code": "InvalidParameter", "detail": detail, "fields": fields}
        return response
    data = response.data
    detail = data.get("detail", data) if isinstance(data, dict) else data
    # DRF turns Django's Http404 and PermissionDenied into its own errors; their ErrorDetail carries the code.
    code = _first_code(detail)
    response.data = {"code": ERROR_CODES.get(code, code), "detail": str(detail)}
    return response
