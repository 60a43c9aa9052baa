"""The console and the admin over HTTP (requests, as a browser posts forms) on the live server: only superusers act
as the root account; creating a sub-user with policies needs AttachUserPolicy; console passwords go through Django's
validators and are never echoed; `next` and `Referer` redirects stay on this site; sign-in is throttled per user
name and per client address on the console and on /admin/login/ alike (issue 12)."""

import re
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter
from tencentcloud.cam.v20190116 import models as cam_models

from tests.console.jsonapi_support import Api, custom_policy, listed, new_bucket, unique
from tests.live import APPID, LiveKinko, running_kinko
from tests.protocol.support import manage

EVIL = "http://evil.example/landing"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CREATE_USER = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
user = get_user_model().objects.create_user({username!r}, password={password!r}, is_staff=True,
                                            is_superuser={superuser!r})
user.user_permissions.set(Permission.objects.all())
"""


class FromAddress(HTTPAdapter):
    """Connect from one loopback address (127.0.0.2, …), so the server sees another client."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def browser(address: str = "127.0.0.1") -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def csrf_of(session: requests.Session, url: str) -> str:
    return CSRF.search(session.get(url, timeout=10).text).group(1)


def sign_in(
    session: requests.Session, kinko: LiveKinko, username: str, password: str, login: str = "/login/", **extra: str
) -> requests.Response:
    url = kinko.url + login
    data = {"csrfmiddlewaretoken": csrf_of(session, url), "username": username, "password": password, **extra}
    return session.post(url, data=data, timeout=10, allow_redirects=False)


def post(session: requests.Session, kinko: LiveKinko, path: str, data: dict, **headers: str) -> requests.Response:
    token = session.cookies.get("csrftoken") or csrf_of(session, kinko.url + "/")
    return session.post(
        kinko.url + path,
        data={"csrfmiddlewaretoken": token, **data},
        timeout=10,
        allow_redirects=False,
        headers={"Referer": kinko.url + "/", **headers},
    )


def django_user(kinko: LiveKinko, *, superuser: bool) -> tuple[str, str]:
    username, password = unique("staff"), uuid.uuid4().hex
    script = CREATE_USER.format(username=username, password=password, superuser=superuser)
    manage(kinko, "shell", "-c", script)
    return username, password


def signed_in(kinko: LiveKinko, username: str, password: str) -> requests.Session:
    session = browser()
    response = sign_in(session, kinko, username, password)
    assert response.status_code == 302, response.text
    return session


def is_offsite(response: requests.Response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (301, 302, 303, 307, 308) and ("evil.example" in location)


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(kinko) -> requests.Session:
    """The console signed in as a superuser (the root account)."""
    return signed_in(kinko, *django_user(kinko, superuser=True))


def user_names(api: Api) -> set[str]:
    return {user["name"] for user in listed(api, "/cam/users/")}


@pytest.fixture(scope="module")
def console_sub_user(kinko, admin, cam):
    """console_sub_user(*actions) → a session signed in as a new sub-user whose one policy allows `actions` on *."""

    def make(*actions: str) -> requests.Session:
        policy = custom_policy(cam, {"effect": "allow", "action": list(actions), "resource": "*"})
        name, password = unique("cu"), f"S{uuid.uuid4().hex}!"
        response = post(admin, kinko, "/cam/users/", {"name": name, "password": password, "policies": [policy]})
        assert response.status_code == 200 and name in response.text, response.text
        return signed_in(kinko, f"{name}@{APPID}", password)

    return make


@pytest.fixture
def bucket(api) -> str:
    name = new_bucket(api)
    yield name
    api.delete(f"/buckets/{name}/")


# -- a Django staff flag is not root ---------------------------------------------------------------------------


def test_staff_user_who_is_not_a_superuser_cannot_see_the_root_accounts_console(kinko):
    session = signed_in(kinko, *django_user(kinko, superuser=False))
    assert session.get(f"{kinko.url}/buckets/", timeout=10).status_code == 403


def test_staff_user_who_is_not_a_superuser_is_not_the_root_on_the_json_api(kinko, bucket):
    session = signed_in(kinko, *django_user(kinko, superuser=False))
    response = session.get(f"{kinko.url}/api/v1/buckets/", timeout=10)
    assert response.status_code in (401, 403), response.text
    assert bucket not in response.text


def test_staff_user_who_is_not_a_superuser_cannot_use_the_admin(kinko):
    username, password = django_user(kinko, superuser=False)
    session = browser()
    sign_in(session, kinko, username, password, login="/admin/login/", next="/admin/")
    response = session.get(f"{kinko.url}/admin/roles/apikey/", timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text
    assert "/admin/login/" in response.headers["Location"]


def test_superuser_acts_as_the_root_in_the_console(kinko, admin, bucket):
    response = admin.get(f"{kinko.url}/buckets/", timeout=10)
    assert response.status_code == 200
    assert bucket in response.text


# -- creating a sub-user with policies needs AttachUserPolicy --------------------------------------------------


def test_add_user_alone_cannot_create_an_administrator_in_the_console(kinko, console_sub_user, api):
    session = console_sub_user("name/cam:AddUser", "name/cam:ListUsers")
    name = unique("adm")
    post(session, kinko, "/cam/users/", {"name": name, "policies": ["QcloudCAMFullAccess"]})
    assert name not in user_names(api)


def test_add_user_with_attach_user_policy_creates_the_user_with_its_policies(kinko, console_sub_user, api):
    session = console_sub_user("name/cam:AddUser", "name/cam:ListUsers", "name/cam:AttachUserPolicy")
    name = unique("ok")
    response = post(session, kinko, "/cam/users/", {"name": name, "policies": ["QcloudCOSReadOnlyAccess"]})
    assert response.status_code == 200, response.text
    assert name in user_names(api)


def test_create_role_alone_cannot_finish_the_role_wizard_with_policies(kinko, console_sub_user, api):
    session = console_sub_user("name/cam:CreateRole", "name/cam:DescribeRoleList")
    name = unique("wr")
    post(
        session,
        kinko,
        "/cam/roles/wizard/",
        {
            "step": "6",
            "entity": "service",
            "service": "cos.cloud.tencent.com",
            "policies": ["QcloudCAMFullAccess"],
            "name": name,
        },
    )
    assert name not in {role["name"] for role in listed(api, "/cam/roles/")}


# -- console passwords -----------------------------------------------------------------------------------------


def test_a_common_console_password_is_refused(kinko, admin, api):
    name = unique("weak")
    response = post(admin, kinko, "/cam/users/", {"name": name, "password": "password123"})
    assert response.status_code == 200
    assert "too common" in response.text
    assert name not in user_names(api)


def test_a_refused_console_password_is_not_echoed(kinko, admin):
    password = "1234567890123"  # entirely numeric: refused
    response = post(admin, kinko, "/cam/users/", {"name": unique("num"), "password": password})
    assert response.status_code == 200
    assert password not in response.text


def test_an_accepted_console_password_is_not_echoed(kinko, admin, api):
    name, password = unique("good"), f"Kx{uuid.uuid4().hex}"
    response = post(admin, kinko, "/cam/users/", {"name": name, "password": password})
    assert name in user_names(api)
    assert password not in response.text


def test_a_console_password_refused_for_a_taken_name_is_not_echoed(kinko, admin):
    name, password = unique("twice"), f"Kx{uuid.uuid4().hex}"
    post(admin, kinko, "/cam/users/", {"name": name, "password": f"Ky{uuid.uuid4().hex}"})
    response = post(admin, kinko, "/cam/users/", {"name": name, "password": password})
    assert password not in response.text
    assert password not in admin.get(response.headers.get("Location") or f"{kinko.url}/cam/users/", timeout=10).text


# -- redirects stay on this site -------------------------------------------------------------------------------


def test_next_after_making_the_cos_service_role_never_leaves_the_site(kinko, admin):
    response = post(admin, kinko, "/cam/roles/cos-service-role/", {"next": EVIL})
    assert response.status_code == 302
    assert not is_offsite(response), response.headers.get("Location")


def test_scheme_relative_next_after_deleting_objects_never_leaves_the_site(kinko, admin, bucket):
    response = post(admin, kinko, f"/buckets/{bucket}/delete-objects/", {"next": "//evil.example/x"})
    assert response.status_code == 302
    assert not is_offsite(response), response.headers.get("Location")


def test_next_on_this_site_is_followed(kinko, admin, bucket):
    response = post(admin, kinko, f"/buckets/{bucket}/delete-objects/", {"next": f"/buckets/{bucket}/"})
    assert response.headers["Location"] == f"/buckets/{bucket}/"


def test_a_change_the_gate_refuses_answers_403_and_never_leads_off_the_site(kinko, console_sub_user, bucket):
    session = console_sub_user("name/cos:HeadBucket")
    response = post(session, kinko, f"/buckets/{bucket}/acl/", {"acl": "public-read"}, Referer=EVIL)
    assert response.status_code == 403
    assert not is_offsite(response), response.headers.get("Location")


def test_referer_of_a_change_the_domain_refuses_never_leads_off_the_site(kinko, admin, cam):
    request = cam_models.AddUserRequest()
    request.Name = unique("referer")
    cam.AddUser(request)
    path = f"/cam/users/{request.Name}/policies/detach/"
    response = post(admin, kinko, path, {"policy": unique("no-such-policy")}, Referer=EVIL)
    assert response.status_code == 302
    assert not is_offsite(response), response.headers.get("Location")


def test_login_next_never_leaves_the_site(kinko):
    username, password = django_user(kinko, superuser=True)
    response = sign_in(browser(), kinko, username, password, next=EVIL)
    assert response.status_code == 302
    assert not is_offsite(response), response.headers.get("Location")


# -- sign-in throttling ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def throttled(tmp_path_factory) -> LiveKinko:
    """A server of its own, so lockouts of loopback addresses here do not reach other tests' sign-ins."""
    with running_kinko(tmp_path_factory.mktemp("throttle-data"), https=False) as server:
        yield server


FAILURES = 5  # settings.LOGIN_MAX_FAILURES


def fail_sign_ins(kinko: LiveKinko, username: str, address: str, login: str, count: int = FAILURES) -> None:
    for _ in range(count):
        response = sign_in(browser(address), kinko, username, "wrong-password", login=login)
        assert response.status_code == 200


@pytest.mark.parametrize("login", ["/login/", "/admin/login/"])
def test_failures_for_a_user_name_lock_it_out_from_every_address(throttled, login):
    username, password = django_user(throttled, superuser=True)
    fail_sign_ins(throttled, username, "127.0.0.2" if login == "/login/" else "127.0.0.3", login)
    response = sign_in(
        browser("127.0.0.4" if login == "/login/" else "127.0.0.5"), throttled, username, password, login=login
    )
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.text


@pytest.mark.parametrize("login", ["/login/", "/admin/login/"])
def test_failures_from_an_address_lock_it_out_for_every_user_name(throttled, login):
    address = "127.0.0.6" if login == "/login/" else "127.0.0.7"
    for _ in range(FAILURES):
        assert sign_in(browser(address), throttled, unique("nobody"), "wrong", login=login).status_code == 200
    username, password = django_user(throttled, superuser=True)
    response = sign_in(browser(address), throttled, username, password, login=login)
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.text


def test_a_user_locked_out_elsewhere_does_not_lock_out_another_user(throttled):
    locked, _ = django_user(throttled, superuser=True)
    fail_sign_ins(throttled, locked, "127.0.0.8", "/login/")
    username, password = django_user(throttled, superuser=True)
    assert sign_in(browser("127.0.0.9"), throttled, username, password).status_code == 302


def test_fewer_failures_than_the_limit_still_let_the_user_in(throttled):
    username, password = django_user(throttled, superuser=True)
    fail_sign_ins(throttled, username, "127.0.0.10", "/admin/login/", count=FAILURES - 1)
    response = sign_in(browser("127.0.0.11"), throttled, username, password, login="/admin/login/", next="/admin/")
    assert response.status_code == 302
