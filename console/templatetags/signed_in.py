"""`{% signed_in_as as who %}`: who the header says is signed in: the user name and whether it is the account's
root or one of its sub-users (decided as the console's authorisation decides it, by roles.service)."""

from django import template
from django.utils.translation import gettext as _

from roles import service as roles

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_in_as(context) -> dict | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    principal = roles.console_principal(user)
    if principal is None:
        role = _("no account")
    elif principal.sub_user is not None:
        role = _("sub-user")
    else:
        role = _("root")
    return {"name": user.get_username(), "role": role, "uin": principal.account.uin if principal else ""}
