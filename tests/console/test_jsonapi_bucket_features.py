"""Bucket tags, object tags, CORS rules and bucket policy through the JSON API against the live server, each change
confirmed through the COS SDK; the domain's refusals as 400 naming the field; the gate asking the COS API's CAM
actions."""

import json

import pytest
from qcloud_cos import CosServiceError

from tests.console.jsonapi_support import failure, new_bucket, ok, put_object
from tests.live import APPID, REGION
from tests.protocol.support import anonymous, service_error


def objects_of(bucket: str) -> str:
    return f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"


def anonymous_read(bucket: str) -> dict:
    statement = {
        "principal": {"qcs": ["qcs::cam::anyone:anyone"]},
        "effect": "allow",
        "action": ["name/cos:GetObject"],
        "resource": [objects_of(bucket)],
    }
    return {"version": "2.0", "statement": [statement]}


def cos_refusal(call, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(**kwargs)
    return service_error(err.value)


@pytest.fixture
def bucket(api, cos) -> str:
    name = new_bucket(api)
    yield name
    for item in cos.list_objects(Bucket=name).get("Contents", []):
        cos.delete_object(Bucket=name, Key=item["Key"])
    cos.delete_bucket(Bucket=name)


# -- bucket tags -----------------------------------------------------------------------------------------------


def test_bucket_tags_set_through_the_api_are_the_bucket_tagging_of_cos(api, cos, bucket):
    tags = {"team": "kinko", "stage": "a b+c-d=e.f_g:h/i@j"}
    assert ok(api.put(f"/buckets/{bucket}/tags/", json={"tags": tags})) == {"tags": tags}
    tag_set = cos.get_bucket_tagging(Bucket=bucket)["TagSet"]["Tag"]
    assert {tag["Key"]: tag["Value"] for tag in tag_set} == tags
    assert ok(api.get(f"/buckets/{bucket}/tags/")) == {"tags": tags}


def test_bucket_tags_deleted_through_the_api_leave_cos_without_a_tag_set(api, cos, bucket):
    ok(api.put(f"/buckets/{bucket}/tags/", json={"tags": {"a": "b"}}))
    assert api.delete(f"/buckets/{bucket}/tags/").status_code == 204
    assert cos_refusal(cos.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    assert failure(api.get(f"/buckets/{bucket}/tags/")) == (404, "NoSuchTagSet")


def test_an_invalid_tag_key_is_refused_in_the_domains_words(api, cos, bucket):
    response = api.put(f"/buckets/{bucket}/tags/", json={"tags": {"bad<key": "v"}})
    assert failure(response) == (400, "InvalidParameter")
    assert "A tag key is 1 to 128" in response.json()["fields"]["tags"][0]
    assert cos_refusal(cos.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")


# -- object tags -----------------------------------------------------------------------------------------------


def test_object_tags_set_through_the_api_are_the_object_tagging_of_cos(api, cos, bucket):
    put_object(api, bucket, "dir/a.txt", b"tagged")
    path = f"/buckets/{bucket}/object-tags/dir/a.txt"
    assert ok(api.get(path)) == {"tags": {}}
    assert ok(api.put(path, json={"tags": {"k": "v", "empty": ""}})) == {"tags": {"k": "v", "empty": ""}}
    tag_set = cos.get_object_tagging(Bucket=bucket, Key="dir/a.txt")["TagSet"]["Tag"]
    assert {tag["Key"]: tag.get("Value") or "" for tag in tag_set} == {"k": "v", "empty": ""}
    assert api.delete(path).status_code == 204
    assert not (cos.get_object_tagging(Bucket=bucket, Key="dir/a.txt").get("TagSet") or {}).get("Tag")


def test_more_than_ten_object_tags_are_refused(api, bucket):
    put_object(api, bucket, "a.txt", b"x")
    response = api.put(f"/buckets/{bucket}/object-tags/a.txt", json={"tags": {f"k{n}": "v" for n in range(11)}})
    assert failure(response) == (400, "InvalidParameter")
    assert response.json()["fields"]["tags"] == ["At most 10 tags may be set here."]


def test_tags_of_a_missing_object_are_no_such_key(api, bucket):
    assert failure(api.put(f"/buckets/{bucket}/object-tags/nope", json={"tags": {}})) == (404, "NoSuchKey")


# -- CORS ------------------------------------------------------------------------------------------------------

RULE = {
    "id": "web",
    "allowed_origins": ["https://app.example"],
    "allowed_methods": ["GET", "PUT"],
    "allowed_headers": ["x-cos-*"],
    "expose_headers": ["ETag"],
    "max_age_seconds": 600,
}


def test_cors_rules_set_through_the_api_are_the_bucket_cors_of_cos(kinko, api, cos, bucket):
    assert ok(api.put(f"/buckets/{bucket}/cors/", json={"rules": [RULE]})) == {"rules": [RULE]}
    (rule,) = cos.get_bucket_cors(Bucket=bucket)["CORSRule"]
    assert (rule["ID"], rule["MaxAgeSeconds"]) == ("web", "600")
    assert ok(api.get(f"/buckets/{bucket}/cors/")) == {"rules": [RULE]}
    asked = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}
    preflight = anonymous(kinko, "OPTIONS", bucket, "a.txt", headers=asked)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert api.delete(f"/buckets/{bucket}/cors/").status_code == 204
    assert cos_refusal(cos.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")


def test_a_cors_rule_with_an_unknown_method_is_refused_in_the_domains_words(api, bucket):
    response = api.put(f"/buckets/{bucket}/cors/", json={"rules": [{**RULE, "allowed_methods": ["PATCH"]}]})
    assert failure(response) == (400, "InvalidParameter")
    assert response.json()["fields"]["rules"] == ["AllowedMethod must be one of GET, PUT, POST, DELETE, HEAD."]
    assert failure(api.get(f"/buckets/{bucket}/cors/")) == (404, "NoSuchCORSConfiguration")


# -- bucket policy ---------------------------------------------------------------------------------------------


def test_a_policy_set_through_the_api_binds_a_cos_request(kinko, api, cos, bucket):
    cos.put_object(Bucket=bucket, Key="open.txt", Body=b"for everyone")
    assert anonymous(kinko, "GET", bucket, "open.txt").status_code == 403
    stored = ok(api.put(f"/buckets/{bucket}/policy/", json={"policy": anonymous_read(bucket)}))
    assert stored["policy"]["statement"][0]["action"] == ["name/cos:GetObject"]
    response = anonymous(kinko, "GET", bucket, "open.txt")
    assert (response.status_code, response.content) == (200, b"for everyone")
    assert json.loads(cos.get_bucket_policy(Bucket=bucket)["Policy"]) == stored["policy"]
    assert api.delete(f"/buckets/{bucket}/policy/").status_code == 204
    assert anonymous(kinko, "GET", bucket, "open.txt").status_code == 403
    assert failure(api.get(f"/buckets/{bucket}/policy/")) == (404, "NoSuchBucketPolicy")


def test_a_policy_naming_another_bucket_is_refused_in_the_domains_words(api, cos, bucket):
    document = anonymous_read("other-" + bucket)
    response = api.put(f"/buckets/{bucket}/policy/", json={"policy": document})
    assert failure(response) == (400, "InvalidParameter")
    assert response.json()["fields"]["policy"] == [f"Each resource must name the bucket: …:{bucket}/<key>."]
    assert cos_refusal(cos.get_bucket_policy, Bucket=bucket) == (404, "NoSuchBucketPolicy")


# -- the gate --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "method", "path", "body"),
    [
        ("PutBucketTagging", "PUT", "tags/", {"tags": {"a": "b"}}),
        ("PutBucketCORS", "PUT", "cors/", {"rules": [RULE]}),
        ("DeleteBucketCORS", "DELETE", "cors/", None),
        ("PutBucketPolicy", "PUT", "policy/", "policy"),
        ("GetBucketPolicy", "GET", "policy/", None),
        ("PutObjectTagging", "PUT", "object-tags/a.txt", {"tags": {"a": "b"}}),
        ("GetObjectTagging", "GET", "object-tags/a.txt", None),
    ],
)
def test_each_change_asks_the_gate_for_the_cos_action(api, make_user, bucket, action, method, path, body):
    put_object(api, bucket, "a.txt", b"x")
    ok(api.put(f"/buckets/{bucket}/policy/", json={"policy": anonymous_read(bucket)}))
    body = {"policy": anonymous_read(bucket)} if body == "policy" else body
    resource = f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"
    other, _ = make_user({"effect": "allow", "action": ["name/cos:HeadBucket"], "resource": ["*"]})
    assert failure(other.request(method, f"/buckets/{bucket}/{path}", json=body)) == (
        403,
        "AuthFailure.UnauthorizedOperation",
    )
    allowed, _ = make_user(
        {"effect": "allow", "action": [f"name/cos:{action}"], "resource": [resource, resource.removesuffix("/*")]}
    )
    assert allowed.request(method, f"/buckets/{bucket}/{path}", json=body).status_code in (200, 204)
