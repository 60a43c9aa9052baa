"""Parse request XML (defusedxml) and render result and error XML the COS SDK can read.

A document is built from (tag, value) pairs: value is text, None (an empty element) or a list of pairs
(children; repeat a tag to make a list).
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405 - rendering only; parsing goes through defusedxml
from datetime import datetime
from urllib.parse import quote

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from buckets import errors

Node = tuple[str, "str | None | list[Node]"] | tuple[str, "str | None | list[Node]", dict[str, str]]
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("xsi", XSI)

MAX_XML_BYTES = 2 * 1024 * 1024


# What XML 1.0 cannot carry, even as a character reference (and CR, which a parser turns into LF).
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def carried(text: str) -> str:
    """`text` with each character XML 1.0 cannot carry percent-encoded (as encoding-type=url writes keys), so a
    document naming any key or value stays well-formed."""
    return _NOT_XML.sub(lambda match: quote(match[0], safe="", errors="surrogatepass"), text)


def _build(parent: ET.Element, children: list[Node]) -> None:
    for tag, value, *attributes in children:
        element = ET.SubElement(parent, tag, attributes[0] if attributes else {})
        if isinstance(value, list):
            _build(element, value)
        elif value is not None:
            element.text = carried(value)


def render(root: str, content: "str | list[Node]") -> bytes:
    element = ET.Element(root)
    if isinstance(content, str):
        element.text = carried(content)
    else:
        _build(element, content)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def render_error(code: str, message: str, resource: str, request_id: str) -> bytes:
    return render(
        "Error",
        [
            ("Code", code),
            ("Message", message),
            ("Resource", resource),
            ("RequestId", request_id),
            ("TraceId", request_id),
        ],
    )


def parse(body: bytes, root: str) -> ET.Element:
    """Parse a request body whose root element must be `root`; anything else is MalformedXML."""
    try:
        element = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise errors.MalformedXML() from None
    if element.tag != root:
        raise errors.MalformedXML(f"The root element must be {root}.")
    return element


def iso8601(moment: datetime, fraction: bool = True) -> str:
    """COS timestamps: 2019-05-24T11:49:50.000Z in listings, no fraction in ListAllMyBucketsResult."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".000Z" if fraction else "Z")


def listing_encoding(encoding_type: str | None, values) -> str | None:
    """The encoding a listing is rendered in: the one asked for, else "url" (declared in <EncodingType>, which the
    SDKs decode) when a key, prefix or marker holds a character XML 1.0 cannot carry: the XML stays well-formed."""
    if encoding_type or not any(_NOT_XML.search(value) for value in values if value):
        return encoding_type
    return "url"


def url_encode(value: str, encoding_type: str | None) -> str:
    """Listing fields with encoding-type=url: %XX with %20 for space (the SDK unquotes, so never '+')."""
    return quote(value, safe="-_.~") if encoding_type == "url" else value


def bool_text(value: bool) -> str:
    return "true" if value else "false"
