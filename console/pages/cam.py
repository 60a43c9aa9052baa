"""CAM pages: roles (the COS_QcsRole wizard in the seed's seven steps, edit, delete, policies), sub-users (add, edit,
delete, policies, access keys, console password).

Each change is authorised through the gate as the CAM action it is, on the resource the API 3.0 edge names for it
(roles/api.py): `uin/<uin>` for a sub-user and its keys, `roleName/<name>` for a role. A page offers a control only
when `may` says the same gate would allow it.
"""

import json
from functools import partial

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.forms import (
    AccessKeyForm,
    AttachPolicyForm,
    ConsolePasswordForm,
    RoleEditForm,
    RoleTrustForm,
    RoleWizardForm,
    SubUserEditForm,
    SubUserForm,
)
from roles import errors, policy
from roles import service as roles
from roles.models import Role, SubUser

from .common import account_of, console_page, may, may_on, redirect_back, require, require_policies

WIZARD_STEPS = 7
NAME_STEP, TAGS_STEP, REVIEW_STEP = 5, 4, 6
ROLE_ACTIONS = (
    "cam:UpdateRoleDescription",
    "cam:UpdateAssumeRolePolicy",
    "cam:DeleteRole",
    "cam:AttachRolePolicy",
    "cam:DetachRolePolicy",
)
USER_ACTIONS = (
    "cam:UpdateUser",
    "cam:DeleteUser",
    "cam:AttachUserPolicy",
    "cam:DetachUserPolicy",
    "cam:CreateAccessKey",
    "cam:UpdateAccessKey",
    "cam:DeleteAccessKey",
)


def role_resource(request, name: str) -> str:
    return policy.cam_resource(account_of(request).uin, f"roleName/{name}")


def user_resource(request, user: SubUser) -> str:
    return policy.cam_resource(account_of(request).uin, f"uin/{user.uin}")


def policy_choices(request) -> list[tuple[str, str]]:
    policies, _total = roles.list_policies(account_of(request), per_page=200)
    return [(p.name, p.name) for p in policies]


def unattached_choices(request, attached) -> list[tuple[str, str]]:
    names = {p.name for p in attached}
    return [choice for choice in policy_choices(request) if choice[0] not in names]


# -- roles ---------------------------------------------------------------------------------------------------


@console_page
def role_list(request):
    require(request, "cam:DescribeRoleList", policy.cam_resource(account_of(request).uin, "roleName/*"))
    account = account_of(request)
    return render(
        request,
        "console/cam/roles.html",
        {
            "roles": Role.objects.filter(account=account).prefetch_related("attachments__policy"),
            "has_cos_role": roles.cos_service_role(account) is not None,
            "may_make_cos_role": may(request, "cam:CreateRole", role_resource(request, roles.COS_SERVICE_ROLE))
            and may(request, "cam:AttachRolePolicy", role_resource(request, roles.COS_SERVICE_ROLE)),
        },
    )


@console_page
@require_POST
def cos_service_role(request):
    require(request, "cam:CreateRole", role_resource(request, roles.COS_SERVICE_ROLE))
    require_policies(request, "cam:AttachRolePolicy", [roles.COS_SERVICE_ROLE_POLICY])
    roles.ensure_cos_service_role(account_of(request))
    messages.success(request, _("COS_QcsRole is ready: COS may now use your KMS keys for SSE-KMS."))
    return redirect_back(request, "roles")


def _role_page(request, role: Role, edit_form=None, attach_form=None, trust_form=None):
    attached = [a.policy for a in role.attachments.select_related("policy").order_by("attached_at", "id")]
    if attach_form is None:
        attach_form = AttachPolicyForm(prefix="attach")
    attach_form.fields["policy"].choices = unattached_choices(request, attached)
    return render(
        request,
        "console/cam/role.html",
        {
            "role": role,
            "trust": pretty(role.trust_policy),
            "attached": attached,
            "edit_form": edit_form or RoleEditForm(prefix="edit", initial={"description": role.description}),
            "trust_form": trust_form
            or RoleTrustForm(prefix="trust", initial={"trust_policy": pretty(role.trust_policy)}),
            "attach_form": attach_form,
            "can": may_on(request, role_resource(request, role.name), *ROLE_ACTIONS),
        },
    )


def pretty(document: str) -> str:
    return json.dumps(json.loads(document), indent=2)


def _role(request, name: str, action: str) -> Role:
    require(request, action, role_resource(request, name))
    return roles.get_role(account_of(request), name=name)


@console_page
def role_detail(request, name: str):
    return _role_page(request, _role(request, name, "cam:GetRole"))


@console_page
@require_POST
def role_edit(request, name: str):
    role = _role(request, name, "cam:UpdateRoleDescription")
    form = RoleEditForm(request.POST, prefix="edit")
    if not form.is_valid():
        return _role_page(request, role, edit_form=form)
    roles.update_role_description(role, form.cleaned_data["description"])
    messages.success(request, _("The role's description was saved."))
    return redirect("role", role.name)


@console_page
@require_POST
def role_trust(request, name: str):
    """UpdateAssumeRolePolicy: who may assume the role. A document that does not parse is shown again beside the
    field, as typed, with the reason."""
    role = _role(request, name, "cam:UpdateAssumeRolePolicy")
    form = RoleTrustForm(request.POST, prefix="trust")
    if form.is_valid():
        try:
            roles.update_assume_role_policy(role, form.cleaned_data["trust_policy"])
        except errors.CamError as exc:
            form.add_error("trust_policy", _("This is not a valid trust policy: %(reason)s") % {"reason": exc.message})
        else:
            messages.success(request, _("The role's trust policy was saved."))
            return redirect("role", role.name)
    return _role_page(request, role, trust_form=form)


@console_page
@require_POST
def role_delete(request, name: str):
    role = _role(request, name, "cam:DeleteRole")
    roles.delete_role(role)
    messages.success(request, _("Role %(name)s was deleted.") % {"name": name})
    return redirect("roles")


@console_page
@require_POST
def role_policy(request, name: str, operation: str):
    """attach or detach one policy (AttachRolePolicy / DetachRolePolicy on the role, as the API names it)."""
    role = _role(request, name, "cam:AttachRolePolicy" if operation == "attach" else "cam:DetachRolePolicy")
    return _change_policy(
        request,
        operation,
        attach=partial(roles.attach_role_policy, role),
        detach=partial(roles.detach_role_policy, role),
        page=partial(_role_page, request, role),
        done=redirect("role", role.name),
    )


def _change_policy(request, operation: str, *, attach, detach, page, done):
    """Attach the form's policy or detach the posted one with `attach`/`detach`; `page(attach_form=…)` shows an
    invalid choice again beside its field, `done` is the answer once it is changed."""
    if operation == "attach":
        form = AttachPolicyForm(request.POST, prefix="attach")
        form.fields["policy"].choices = policy_choices(request)
        if not form.is_valid():
            return page(attach_form=form)
        found = roles.get_policy(account_of(request), name=form.cleaned_data["policy"])
        attach(found)
        messages.success(request, _("Policy %(policy)s was attached.") % {"policy": found.name})
    else:
        found = roles.get_policy(account_of(request), name=request.POST.get("policy", ""))
        detach(found)
        messages.success(request, _("Policy %(policy)s was detached.") % {"policy": found.name})
    return done


def _wizard_trust(service: str) -> str:
    return json.dumps(
        {
            "version": "2.0",
            "statement": [
                {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": [service]}},
            ],
        }
    )


@console_page
def role_wizard(request):
    """Step 1 entity, 2 service, 3 policies, 4 tags, 5 name, 6 review, 7 done (the seed's seven steps). Every step
    posts every value so far and after (hidden), so Back and a refusal lose nothing; the role is created, and so
    authorised, at the last step, and a refusal of its name brings the name step back with the error beside it."""
    require(request, "cam:ListPolicies", policy.cam_resource(account_of(request).uin, "policy/*"))
    account = account_of(request)
    policies, _total = roles.list_policies(account, per_page=200)
    form = RoleWizardForm(request.POST or None)
    form.fields["policies"].choices = [(p.name, p.name) for p in policies]
    step = 1
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("go") == "back":
            step = max(1, data["step"] - 1)
        else:
            step = _wizard_next(request, form, data)
            if step == WIZARD_STEPS:
                return render(
                    request,
                    "console/cam/wizard.html",
                    {"step": step, "role": form.role, "form": form, "steps": range(1, WIZARD_STEPS + 1)},
                )
    elif request.method == "POST":
        step = form.cleaned_data.get("step") or 1
    return render(
        request,
        "console/cam/wizard.html",
        {"step": step, "form": form, "policies": policies, "steps": range(1, WIZARD_STEPS + 1)},
    )


def _wizard_next(request, form: RoleWizardForm, data: dict) -> int:
    """The step after `data["step"]`, or the step to show again with its field's error."""
    step = data["step"]
    if step == TAGS_STEP and data["tag_value"] and not data["tag_key"]:
        form.add_error("tag_key", _("A tag needs a key."))
        return step
    if step == NAME_STEP and not data["name"]:
        form.add_error("name", _("Name the role."))
        return step
    if step == NAME_STEP and not roles.ROLE_NAME.fullmatch(data["name"]):
        form.add_error("name", _("Use 1 to 128 letters, digits and + = , . @ - _ only."))
        return step
    if step != REVIEW_STEP:
        return step + 1
    require(request, "cam:CreateRole", role_resource(request, data["name"]))
    require_policies(request, "cam:AttachRolePolicy", data["policies"])
    tags = [{"Key": data["tag_key"], "Value": data["tag_value"]}] if data["tag_key"] else []
    try:
        form.role = roles.create_role(
            account_of(request),
            data["name"],
            _wizard_trust(data["service"]),
            _("Created with the console's role wizard."),
            tags=tags,
            policies=data["policies"],
        )
    except errors.RoleNameInUse:
        form.add_error("name", _("A role with this name exists already. Choose another name."))
        return NAME_STEP
    except errors.RoleNameError:
        form.add_error("name", _("Use 1 to 128 letters, digits and + = , . @ - _ only."))
        return NAME_STEP
    except errors.TagParamError:
        form.add_error("tag_key", _("A tag needs a key."))
        return TAGS_STEP
    return WIZARD_STEPS


# -- sub-users -----------------------------------------------------------------------------------------------


@console_page
def user_list(request):
    account = account_of(request)
    require(request, "cam:ListUsers", policy.cam_resource(account.uin, "uin/*"))
    choices = policy_choices(request)
    form = SubUserForm(request.POST or None)
    form.fields["policies"].choices = choices
    created = None
    if request.method == "POST" and form.is_valid():
        require(request, "cam:AddUser", policy.cam_resource(account.uin, "uin/*"))
        data = form.cleaned_data
        require_policies(request, "cam:AttachUserPolicy", data["policies"])
        try:
            user, key, secret_key = roles.add_user_with_key(
                account, data["name"], data["remark"], data["policies"], password=data["password"]
            )
        except errors.UserNameInUse:
            form.add_error("name", _("A sub-user with this name exists already. Choose another name."))
        else:
            created = {"user": user, "secret_id": key.secret_id, "secret_key": secret_key}  # shown once, never again
            form = SubUserForm()
            form.fields["policies"].choices = choices
    users = SubUser.objects.filter(account=account).prefetch_related("attachments__policy", "api_keys")
    return render(
        request, "console/cam/users.html", {"users": users, "form": form, "created": created, "appid": account.appid}
    )


def _user(request, name: str, action: str) -> SubUser:
    """The named sub-user, once the gate allows `action` on it (on `uin/*` when no such user: the API's way)."""
    account = account_of(request)
    found = SubUser.objects.filter(account=account, name=name).first()
    target = f"uin/{found.uin}" if found is not None else "uin/*"
    require(request, action, policy.cam_resource(account.uin, target))
    return roles.get_user(account, name=name)


def _user_page(
    request, user: SubUser, *, edit_form=None, password_form=None, attach_form=None, key_form=None, new_key=None
):
    attached = [a.policy for a in user.attachments.select_related("policy").order_by("attached_at", "id")]
    if attach_form is None:
        attach_form = AttachPolicyForm(prefix="attach")
    attach_form.fields["policy"].choices = unattached_choices(request, attached)
    keys = roles.access_keys(account_of(request), user)
    return render(
        request,
        "console/cam/user.html",
        {
            "sub_user": user,
            "attached": attached,
            "keys": keys,
            "new_key": new_key,
            "key_limit_reached": len(keys) >= roles.MAX_KEYS_PER_USER,
            "edit_form": edit_form or SubUserEditForm(prefix="edit", initial={"remark": user.remark}),
            "password_form": password_form or ConsolePasswordForm(prefix="password"),
            "attach_form": attach_form,
            "key_form": key_form or AccessKeyForm(prefix="key"),
            "sign_in_name": roles.console_username(user.account, user.name),
            "can": may_on(request, user_resource(request, user), *USER_ACTIONS),
        },
    )


@console_page
def user_detail(request, name: str):
    return _user_page(request, _user(request, name, "cam:GetUser"))


@console_page
@require_POST
def user_edit(request, name: str):
    user = _user(request, name, "cam:UpdateUser")
    form = SubUserEditForm(request.POST, prefix="edit")
    if not form.is_valid():
        return _user_page(request, user, edit_form=form)
    roles.update_user(user, form.cleaned_data["remark"])
    messages.success(request, _("The sub-user's remark was saved."))
    return redirect("user", user.name)


@console_page
@require_POST
def user_password(request, name: str):
    """Set (or reset) the sub-user's console password: UpdateUser with a Password, as in CAM."""
    user = _user(request, name, "cam:UpdateUser")
    form = ConsolePasswordForm(request.POST, prefix="password", username=user.name)
    if not form.is_valid():
        return _user_page(request, user, password_form=form)
    roles.set_console_password(user, form.cleaned_data["password"])
    messages.success(
        request,
        _("The console password was set. %(name)s signs in as %(sign_in)s.")
        % {"name": user.name, "sign_in": roles.console_username(user.account, user.name)},
    )
    return redirect("user", user.name)


@console_page
@require_POST
def user_delete(request, name: str):
    user = _user(request, name, "cam:DeleteUser")
    roles.delete_user(user)
    messages.success(request, _("Sub-user %(name)s was deleted, with its access keys.") % {"name": name})
    return redirect("users")


@console_page
@require_POST
def user_policy(request, name: str, operation: str):
    """attach or detach one policy (AttachUserPolicy / DetachUserPolicy on the sub-user, as the API names it)."""
    user = _user(request, name, "cam:AttachUserPolicy" if operation == "attach" else "cam:DetachUserPolicy")
    return _change_policy(
        request,
        operation,
        attach=partial(roles.attach_user_policy, user),
        detach=partial(roles.detach_user_policy, user),
        page=partial(_user_page, request, user),
        done=redirect("user", user.name),
    )


@console_page
@require_POST
def access_key_create(request, name: str):
    """A new key pair; its SecretKey is in this one response only (never stored in clear, never shown again)."""
    user = _user(request, name, "cam:CreateAccessKey")
    form = AccessKeyForm(request.POST, prefix="key")
    if not form.is_valid():
        return _user_page(request, user, key_form=form)
    try:
        key, secret_key = roles.create_access_key(account_of(request), user, form.cleaned_data["description"])
    except errors.AccessKeyLimit:
        form.add_error(None, _("A sub-user holds at most 2 access keys. Delete one to add another."))
        return _user_page(request, user, key_form=form)
    return _user_page(request, user, new_key={"secret_id": key.secret_id, "secret_key": secret_key})


KEY_OPERATIONS = {
    "disable": ("cam:UpdateAccessKey", "Inactive"),
    "enable": ("cam:UpdateAccessKey", "Active"),
    "delete": ("cam:DeleteAccessKey", None),
}


@console_page
@require_POST
def access_key_action(request, name: str, secret_id: str, operation: str):
    action, status = KEY_OPERATIONS[operation]
    user = _user(request, name, action)
    if status is None:
        roles.delete_access_key(account_of(request), user, secret_id)
        messages.success(request, _("Access key %(id)s was deleted.") % {"id": secret_id})
    else:
        roles.update_access_key(account_of(request), user, secret_id, status)
        done = _("Access key %(id)s was enabled.") if status == "Active" else _("Access key %(id)s was disabled.")
        messages.success(request, done % {"id": secret_id})
    return redirect("user", user.name)
