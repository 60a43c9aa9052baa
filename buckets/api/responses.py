"""HTTP responses of the COS API: empty, XML, and error documents, with header names in the SDK's exact case."""

from django.http import HttpResponse

from buckets import errors
from buckets.service import version_label

from . import xml
from .urls import CosTarget


def empty_response(status: int = 200) -> HttpResponse:
    response = HttpResponse(status=status)
    del response["Content-Type"]
    response["Content-Length"] = "0"
    return response


def xml_response(body: bytes, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["Content-Length"] = str(len(body))
    return response


def error_response(exc: errors.CosError, target: CosTarget, request_id: str, method: str) -> HttpResponse:
    if method == "HEAD":
        response = empty_response(exc.status)
    else:
        response = xml_response(xml.render_error(exc.code, exc.message, target.resource, request_id), exc.status)
    response["x-cos-trace-id"] = request_id
    # The COS layer logs each error once, concisely; keep django.request from logging a 5xx (501) again.
    response._has_been_logged = True
    if isinstance(exc, errors.InvalidRange):
        response["Content-Range"] = f"bytes */{exc.size}"
    if exc.delete_marker is not None:
        response["x-cos-delete-marker"] = "true"
        response["x-cos-version-id"] = version_label(exc.delete_marker)
    return response
