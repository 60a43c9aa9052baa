"""CAM pages: roles, the COS_QcsRole wizard in the seed's seven steps, sub-users and their access keys."""

import json

from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.forms import RoleWizardForm, SubUserForm
from roles import policy
from roles import service as roles
from roles.models import Role, SubUser

from .common import account_of, console_page, redirect_back, require, require_policies


def role_resource(request, name: str) -> str:
    return policy.cam_resource(account_of(request).uin, f"roleName/{name}")


WIZARD_STEPS = 7


@console_page
def role_list(request):
    require(request, "cam:DescribeRoleList")
    account = account_of(request)
    return render(request, "console/cam/roles.html", {
        "roles": Role.objects.filter(account=account).prefetch_related("attachments__policy"),
        "has_cos_role": roles.cos_service_role(account) is not None,
    })  # fmt: skip


@console_page
@require_POST
def cos_service_role(request):
    require(request, "cam:CreateRole", role_resource(request, roles.COS_SERVICE_ROLE))
    require_policies(request, "cam:AttachRolePolicy", [roles.COS_SERVICE_ROLE_POLICY])
    roles.ensure_cos_service_role(account_of(request))
    messages.success(request, _("COS_QcsRole is ready: COS may now use your KMS keys for SSE-KMS."))
    return redirect_back(request, "roles")


@console_page
def role_detail(request, name: str):
    require(request, "cam:GetRole", role_resource(request, name))
    role = roles.get_role(account_of(request), name=name)
    return render(
        request, "console/cam/role.html", {"role": role, "trust": json.dumps(json.loads(role.trust_policy), indent=2)}
    )


@console_page
def role_wizard(request):
    """Step 1 entity, 2 service, 3 policies, 4 tags, 5 name, 6 review, 7 done (the seed's seven steps); the role
    is created, and so authorised, at the last step."""
    require(request, "cam:ListPolicies")
    account = account_of(request)
    policies, _total = roles.list_policies(account, per_page=200)
    form = RoleWizardForm(request.POST or None)
    form.fields["policies"].choices = [(p.name, p.name) for p in policies]
    step = 1
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        step = data["step"] + 1
        if step == 7:
            require(request, "cam:CreateRole", role_resource(request, data["name"]))
            require_policies(request, "cam:AttachRolePolicy", data["policies"])
            trust = json.dumps(
                {
                    "version": "2.0",
                    "statement": [
                        {
                            "action": "name/sts:AssumeRole",
                            "effect": "allow",
                            "principal": {"service": [data["service"]]},
                        }
                    ],
                }
            )
            tags = [{"Key": data["tag_key"], "Value": data["tag_value"]}] if data["tag_key"] else []
            role = roles.create_role(account, data["name"], trust, _("Created with the console's role wizard."),
                                     tags=tags, policies=data["policies"])  # fmt: skip
            return render(request, "console/cam/wizard.html", {"step": 7, "role": role, "form": form})
    return render(request, "console/cam/wizard.html", {"step": step, "form": form, "policies": policies,
                                                        "steps": range(1, WIZARD_STEPS + 1)})  # fmt: skip


@console_page
def user_list(request):
    require(request, "cam:ListUsers")
    account = account_of(request)
    policies, _total = roles.list_policies(account, per_page=200)
    form = SubUserForm(request.POST or None)
    form.fields["policies"].choices = [(p.name, p.name) for p in policies]
    created = None
    if request.method == "POST" and form.is_valid():
        require(request, "cam:AddUser")
        data = form.cleaned_data
        require_policies(request, "cam:AttachUserPolicy", data["policies"])
        user, key, secret_key = roles.add_user_with_key(account, data["name"], data["remark"], data["policies"],
                                                        password=data["password"])  # fmt: skip
        created = {"user": user, "secret_id": key.secret_id, "secret_key": secret_key}  # shown once, never again
        form = SubUserForm()
        form.fields["policies"].choices = [(p.name, p.name) for p in policies]
    users = SubUser.objects.filter(account=account).prefetch_related("attachments__policy", "api_keys")
    return render(request, "console/cam/users.html", {"users": users, "form": form, "created": created})
