"""`{% may_upload bucket prefix as allowed %}`: whether the signed-in principal may upload into the folder, decided
by the gate as the COS API decides PutObject, so the panel is offered only to those who may use it."""

from django import template
from django.core.exceptions import PermissionDenied

import gate
from console.edge import context_of
from console.pages.common import principal_of
from roles import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def may_upload(context, bucket, prefix: str) -> bool:
    request = context["request"]
    try:
        principal = principal_of(request)
    except PermissionDenied:
        return False
    resource = policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, f"{prefix}*")
    return gate.allowed(principal, "cos:PutObject", resource, context_of(request))
