"""URL converters of the console and the JSON API."""

from django.urls import register_converter
from django.urls.converters import PathConverter


class ObjectKeyConverter(PathConverter):
    """An object key: any non-empty text, slashes and line breaks included (Django's `path` stops at a newline),
    but no NUL, which no object key holds (buckets.service.validate_key_text): such a URL is a 404."""

    regex = r"(?s:[^\x00]+)"


register_converter(ObjectKeyConverter, "key")
