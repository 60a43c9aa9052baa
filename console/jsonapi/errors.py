"""JSON API errors: `{"code": <stable code>, "detail": <message>}` with the HTTP status of the domain error.

COS errors keep their COS code and status; API 3.0 (KMS, CAM) errors their Tencent code (400, or 403 for
authorization and 404 for missing resources); a refusal of the gate is 403 `AuthFailure.UnauthorizedOperation`;
DRF's own errors their DRF code.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

import gate
from buckets.errors import CosError
from core.apierror import ApiError


def api_error_status(code: str) -> int:
    if code.startswith("AuthFailure") or code.startswith("UnauthorizedOperation"):
        return status.HTTP_403_FORBIDDEN
    if "NotFound" in code or "NotExist" in code:
        return status.HTTP_404_NOT_FOUND
    return status.HTTP_400_BAD_REQUEST


DENIED = "AuthFailure.UnauthorizedOperation"


def handle_exception(exc, context):
    if isinstance(exc, gate.Denied):
        return Response({"code": DENIED, "detail": exc.reason}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, CosError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    if isinstance(exc, ApiError):
        return Response({"code": exc.code, "detail": exc.message}, status=api_error_status(exc.code))
    response = exception_handler(exc, context)
    if response is not None:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        # DRF turns Django's Http404 and PermissionDenied into its own errors; their ErrorDetail carries the code.
        code = getattr(detail, "code", None) or "invalid"
        response.data = {"code": code, "detail": detail}
    return response
