"""PUT/GET/DELETE ?policy through the real SDK, and the bucket policy evaluated by the gate with CAM and ACLs: a
deny on unencrypted or non-HTTPS uploads, an anonymous-read grant that still refuses encrypted objects, a grant to a
sub-user without CAM policies, and an explicit deny beating a CAM allow."""

import json
import time

import pytest
import requests
from qcloud_cos import CosServiceError

import gate
from tests.live import APPID, REGION, cos_client
from tests.protocol.api3 import SubUsers, allow, root_uin
from tests.protocol.support import (
    anonymous,
    body_of,
    empty_and_delete,
    manage,
    new_bucket,
    other_account,
    service_error,
)

ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
ENCRYPTED = ["AES256", "cos/kms"]


def objects(bucket: str) -> str:
    return f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"


def statement(effect: str, action: str, bucket: str, principal: str = "*", **extra) -> dict:
    return {
        "principal": {"qcs": [principal]},
        "effect": effect,
        "action": [action],
        "resource": [objects(bucket)],
        **extra,
    }


def policy(*statements: dict) -> dict:
    return {"version": "2.0", "statement": list(statements)}


def refused(call, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(**kwargs)
    return service_error(err.value)


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    manage(kinko, "activate_kms", "--json")
    manage(kinko, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture
def guarded(cos) -> str:
    """A bucket whose policy is removed before it is emptied and deleted."""
    name = new_bucket(cos)
    yield name
    cos.delete_bucket_policy(Bucket=name)
    empty_and_delete(cos, name)


@pytest.fixture
def users(kinko) -> SubUsers:
    made = SubUsers(kinko)
    yield made
    made.cleanup()


def deny_unencrypted(bucket: str) -> dict:
    condition = {"string_not_equal": {"cos:x-cos-server-side-encryption": ENCRYPTED}}
    return policy(statement("deny", "name/cos:PutObject", bucket, condition=condition))


# -- the subresource ---------------------------------------------------------------------------------------


def test_put_get_delete_bucket_policy_round_trips(cos, guarded):
    document = deny_unencrypted(guarded)
    cos.put_bucket_policy(Bucket=guarded, Policy=document)
    assert json.loads(cos.get_bucket_policy(Bucket=guarded)["Policy"]) == document
    cos.delete_bucket_policy(Bucket=guarded)
    assert refused(cos.get_bucket_policy, Bucket=guarded) == (404, "NoSuchBucketPolicy")


def test_capitalised_elements_are_accepted_as_cos_accepts_them(cos, guarded):
    document = {
        "Version": "2.0",
        "Statement": [
            {
                "Principal": {"qcs": ["*"]},
                "Effect": "Deny",
                "Action": ["name/cos:PutObject"],
                "Resource": objects(guarded),
            }
        ],
    }
    cos.put_bucket_policy(Bucket=guarded, Policy=document)
    assert refused(cos.put_object, Bucket=guarded, Key="a.txt", Body=b"x") == (403, "AccessDenied")


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"version": "2.0"}),
        json.dumps({"version": "1.0", "statement": [{"effect": "allow", "action": "*", "resource": "*"}]}),
        json.dumps(policy({"effect": "allow", "action": ["name/cos:GetObject"], "resource": ["*"]})),  # no principal
        json.dumps(policy(statement("allow", "name/kms:Decrypt", "b"))),
        json.dumps(policy(statement("maybe", "name/cos:GetObject", "b"))),
        json.dumps(policy(statement("allow", "name/cos:GetObject", f"other-{APPID}"))),
        json.dumps(policy(*[statement("allow", "name/cos:GetObject", "b")] * 200)),  # beyond 20 KB
    ],
    ids=["not-json", "no-statement", "version", "no-principal", "kms-action", "effect", "other-bucket", "too-large"],
)
def test_an_invalid_policy_is_malformed_policy_and_not_stored(cos, guarded, document):
    document = document.replace(":b/", f":{guarded}/")
    assert refused(cos.put_bucket_policy, Bucket=guarded, Policy=document) == (400, "MalformedPolicy")
    assert refused(cos.get_bucket_policy, Bucket=guarded) == (404, "NoSuchBucketPolicy")


def test_another_account_cannot_read_or_replace_the_policy(kinko, cos, guarded):
    stranger = other_account(kinko).client(kinko)
    cos.put_bucket_policy(Bucket=guarded, Policy=deny_unencrypted(guarded))
    assert refused(stranger.get_bucket_policy, Bucket=guarded)[1] == "AccessDenied"
    assert refused(stranger.delete_bucket_policy, Bucket=guarded)[1] == "AccessDenied"
    assert json.loads(cos.get_bucket_policy(Bucket=guarded)["Policy"]) == deny_unencrypted(guarded)


# -- encryption and transport conditions --------------------------------------------------------------------


def test_a_policy_denying_unencrypted_puts_refuses_a_plain_put(cos, guarded):
    cos.put_bucket_policy(Bucket=guarded, Policy=deny_unencrypted(guarded))
    assert refused(cos.put_object, Bucket=guarded, Key="plain.txt", Body=b"plain") == (403, "AccessDenied")
    assert not cos.object_exists(Bucket=guarded, Key="plain.txt")


def test_a_policy_denying_unencrypted_puts_accepts_sse_cos_and_sse_kms(cos, guarded, kms_ready):
    cos.put_bucket_policy(Bucket=guarded, Policy=deny_unencrypted(guarded))
    for key, mode in (("cos.txt", "AES256"), ("kms.txt", "cos/kms")):
        reply = cos.put_object(Bucket=guarded, Key=key, Body=mode.encode(), ServerSideEncryption=mode)
        assert reply["x-cos-server-side-encryption"] == mode
        assert body_of(cos.get_object(Bucket=guarded, Key=key)) == mode.encode()


def test_a_policy_denying_plain_http_refuses_an_http_put_and_accepts_https(kinko, cos, guarded, monkeypatch):
    condition = {"bool_equal": {"qcs:secure_transport": "false"}}
    cos.put_bucket_policy(
        Bucket=guarded, Policy=policy(statement("deny", "name/cos:PutObject", guarded, condition=condition))
    )
    assert refused(cos.put_object, Bucket=guarded, Key="http.txt", Body=b"x") == (403, "AccessDenied")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(kinko.ca_bundle))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    https = cos_client(kinko, Scheme="https", IP="127.0.0.1", Port=kinko.https_port)
    https.put_object(Bucket=guarded, Key="https.txt", Body=b"over tls")
    assert body_of(cos.get_object(Bucket=guarded, Key="https.txt")) == b"over tls"
    assert not cos.object_exists(Bucket=guarded, Key="http.txt")


# -- who a policy grants ------------------------------------------------------------------------------------


def test_an_anonymous_read_policy_serves_a_plain_object_but_not_an_encrypted_one(kinko, cos, guarded):
    cos.put_object(Bucket=guarded, Key="open.txt", Body=b"for everyone")
    cos.put_object(Bucket=guarded, Key="sealed.txt", Body=b"for signers", ServerSideEncryption="AES256")
    assert anonymous(kinko, "GET", guarded, "open.txt").status_code == 403
    cos.put_bucket_policy(Bucket=guarded, Policy=policy(statement("allow", "name/cos:GetObject", guarded)))
    response = anonymous(kinko, "GET", guarded, "open.txt")
    assert (response.status_code, response.content) == (200, b"for everyone")
    sealed = anonymous(kinko, "GET", guarded, "sealed.txt")
    assert sealed.status_code == 403 and b"for signers" not in sealed.content
    assert anonymous(kinko, "PUT", guarded, "new.txt", data=b"x").status_code == 403


def test_a_sub_user_without_cam_policies_is_granted_by_a_policy_naming_its_uin(kinko, cos, guarded, users):
    member = users.create()
    client = cos_client(kinko, secret_id=member.secret_id, secret_key=member.secret_key)
    assert refused(client.put_object, Bucket=guarded, Key="m.txt", Body=b"x")[1] == "AccessDenied"
    principal = f"qcs::cam::uin/{root_uin(kinko)}:uin/{member.uin}"
    cos.put_bucket_policy(Bucket=guarded, Policy=policy(statement("allow", "name/cos:PutObject", guarded, principal)))
    client.put_object(Bucket=guarded, Key="m.txt", Body=b"by policy")
    assert body_of(cos.get_object(Bucket=guarded, Key="m.txt")) == b"by policy"
    assert refused(client.get_object, Bucket=guarded, Key="m.txt")[1] == "AccessDenied"  # only what it names


def test_an_explicit_deny_in_the_bucket_policy_beats_a_cam_allow(kinko, cos, guarded, users):
    member = users.create(allow("name/cos:*"))
    client = cos_client(kinko, secret_id=member.secret_id, secret_key=member.secret_key)
    client.put_object(Bucket=guarded, Key="before.txt", Body=b"x")
    principal = f"qcs::cam::uin/{root_uin(kinko)}:uin/{member.uin}"
    cos.put_bucket_policy(Bucket=guarded, Policy=policy(statement("deny", "name/cos:PutObject", guarded, principal)))
    assert refused(client.put_object, Bucket=guarded, Key="after.txt", Body=b"x") == (403, "AccessDenied")
    assert body_of(client.get_object(Bucket=guarded, Key="before.txt")) == b"x"
    cos.put_object(Bucket=guarded, Key="root.txt", Body=b"the root is not named")


def test_the_owner_can_remove_a_policy_that_denies_everything(cos, guarded):
    everything = {"principal": {"qcs": ["*"]}, "effect": "deny", "action": ["*"], "resource": [objects(guarded)]}
    cos.put_bucket_policy(Bucket=guarded, Policy=policy(everything))
    assert refused(cos.put_object, Bucket=guarded, Key="x.txt", Body=b"x") == (403, "AccessDenied")
    cos.delete_bucket_policy(Bucket=guarded)
    cos.put_object(Bucket=guarded, Key="x.txt", Body=b"x")


def test_a_bucket_policy_binds_the_json_api_and_the_console_as_it_binds_cos(kinko, cos, guarded, users):
    member = users.create(allow("name/cos:*"))
    cos.put_object(Bucket=guarded, Key="secret.txt", Body=b"kept from the member")
    token = {"Authorization": f"Token {member.secret_id}:{member.secret_key}"}
    api = f"{kinko.url}/api/v1/buckets/{guarded}/objects/secret.txt"
    assert requests.get(api, params={"download": "1"}, headers=token, timeout=30).status_code == 200

    principal = f"qcs::cam::uin/{root_uin(kinko)}:uin/{member.uin}"
    cos.put_bucket_policy(Bucket=guarded, Policy=policy(statement("deny", "name/cos:GetObject", guarded, principal)))
    time.sleep(gate.POLICY_SECONDS)  # the JSON API's web worker may have read the bucket's policy a moment ago
    refused_download = requests.get(api, params={"download": "1"}, headers=token, timeout=30)
    assert (refused_download.status_code, refused_download.json()["code"]) == (403, "AuthFailure.UnauthorizedOperation")
    assert refused_download.content != b"kept from the member"
    written = requests.put(f"{api}-copy", data=b"x", headers=token, timeout=30)  # what the deny does not name
    assert written.status_code == 201, written.text
