"""Request body parsers of the JSON API: DRF's, with JSON nesting bounded so a deep body is a 400, not a crash."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # the deepest body the API takes nests three levels (a bucket's "encryption")


def nests_deeper_than(value: object, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (iterative, so any depth the parser allowed is safe)."""
    pending = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body nests too deeply.") from None
        if nests_deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError("JSON parse error - the body nests too deeply.")
        return data


PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
