"""OpenAPI operation ids read as what the operation does: `buckets_list`, `bucket_create`, `bucket_encryption_update`,
`job_cancel`: the view's name in snake_case (without "Detail") and the method's verb. A view may name its own in
`operation_ids`."""

import re

from drf_spectacular import openapi

VERBS = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "delete"}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def plural(noun: str) -> str:
    return noun[:-1] + "ies" if re.search(r"[^aeiou]y$", noun) else noun + "s"


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self) -> str:
        method = self.method.lower()
        named = getattr(self.view, "operation_ids", {}).get(method)
        if named:
            return named
        words = snake(type(self.view).__name__).removesuffix("_detail")
        if words.endswith("_list"):
            noun = words.removesuffix("_list")
            return f"{plural(noun)}_list" if method == "get" else f"{noun}_create"
        if method == "post":
            return words
        return f"{words}_{VERBS[method]}"
