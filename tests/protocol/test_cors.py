"""PUT/GET/DELETE ?cors through the real SDK, OPTIONS preflights answered per rule (unsigned, revealing nothing), and
CORS headers on actual requests whose origin a rule allows."""

import pytest
import requests
from qcloud_cos import CosServiceError

from tests.protocol.support import anonymous, empty_and_delete, error_code, new_bucket, service_error

PAGE = "https://app.example.com"
RULE = {
    "ID": "uploads",
    "AllowedOrigin": [PAGE, "http://*.example.org"],
    "AllowedMethod": ["PUT", "GET"],
    "AllowedHeader": ["content-type", "x-cos-meta-*"],
    "ExposeHeader": ["ETag", "x-cos-request-id"],
    "MaxAgeSeconds": "600",
}


@pytest.fixture
def cors_bucket(cos) -> str:
    name = new_bucket(cos)
    cos.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRule": [RULE]})
    yield name
    empty_and_delete(cos, name)


def preflight(kinko, bucket: str, key: str = "k.txt", **headers: str) -> requests.Response:
    sent = {"Origin": PAGE, "Access-Control-Request-Method": "PUT", **headers}
    return anonymous(kinko, "OPTIONS", bucket, key, headers={k.replace("_", "-"): v for k, v in sent.items()})


def test_get_bucket_cors_returns_the_rules_put(cos, cors_bucket):
    rules = cos.get_bucket_cors(Bucket=cors_bucket)["CORSRule"]
    assert rules == [RULE]


def test_delete_bucket_cors_removes_the_rules(cos, cors_bucket):
    cos.delete_bucket_cors(Bucket=cors_bucket)
    with pytest.raises(CosServiceError) as err:
        cos.get_bucket_cors(Bucket=cors_bucket)
    assert service_error(err.value) == (404, "NoSuchCORSConfiguration")


@pytest.mark.parametrize(
    "rule",
    [
        {"AllowedOrigin": [PAGE]},
        {"AllowedOrigin": [PAGE], "AllowedMethod": ["PATCH"]},
        {"AllowedOrigin": ["*.a.*"], "AllowedMethod": ["GET"]},
        {"AllowedOrigin": [PAGE], "AllowedMethod": ["GET"], "MaxAgeSeconds": "soon"},
        {"AllowedOrigin": [PAGE], "AllowedMethod": ["GET"], "AllowedHeader": ["bad header"]},
    ],
    ids=["no-method", "patch", "two-wildcards", "max-age", "header-name"],
)
def test_an_invalid_rule_is_refused_and_not_stored(cos, cors_bucket, rule):
    with pytest.raises(CosServiceError) as err:
        cos.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration={"CORSRule": [rule]})
    assert err.value.get_status_code() == 400
    assert cos.get_bucket_cors(Bucket=cors_bucket)["CORSRule"] == [RULE]


def test_a_matching_preflight_is_answered_from_the_rule(kinko, cors_bucket):
    response = preflight(kinko, cors_bucket, Access_Control_Request_Headers="content-type,x-cos-meta-colour")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Access-Control-Allow-Methods"] == "PUT, GET"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-cos-meta-colour"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, x-cos-request-id"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers["Vary"]


def test_a_wildcard_origin_matches_a_subdomain(kinko, cors_bucket):
    response = preflight(kinko, cors_bucket, Origin="http://shop.example.org")
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.example.org"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.net"},
        {"Access_Control_Request_Method": "DELETE"},
        {"Access_Control_Request_Headers": "x-cos-acl"},
    ],
    ids=["origin", "method", "header"],
)
def test_a_preflight_no_rule_allows_is_403_without_cors_headers(kinko, cors_bucket, headers):
    response = preflight(kinko, cors_bucket, **headers)
    assert (response.status_code, error_code(response)) == (403, "AccessForbidden")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_to_a_missing_bucket_looks_like_one_without_rules(kinko, cos, cors_bucket):
    cos.delete_bucket_cors(Bucket=cors_bucket)
    without = preflight(kinko, cors_bucket)
    missing = preflight(kinko, "nosuchbucket-1250000000")
    assert (
        (without.status_code, error_code(without))
        == (missing.status_code, error_code(missing))
        == (
            403,
            "AccessForbidden",
        )
    )


def test_a_preflight_carrying_a_presigned_query_is_answered_without_checking_it(kinko, cos, cors_bucket):
    url = cos.get_presigned_url(Bucket=cors_bucket, Key="k.txt", Method="PUT")
    query = url.split("?", 1)[1] + "&uploadId=x&partNumber=1"
    response = preflight(kinko, cors_bucket, key=f"k.txt?{query}")
    assert response.status_code == 200
    assert not cos.object_exists(Bucket=cors_bucket, Key="k.txt")


def test_a_preflight_without_origin_is_invalid_request(kinko, cors_bucket):
    response = anonymous(kinko, "OPTIONS", cors_bucket, "k.txt", headers={"Access-Control-Request-Method": "PUT"})
    assert (response.status_code, error_code(response)) == (400, "InvalidRequest")


def signed(kinko, cos_proxy, method: str, bucket: str, key: str, **kwargs) -> requests.Response:
    """A presigned request, as a web page sends it (absolute-form, real Host)."""
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key=key, Method=method)
    return requests.request(method, url, proxies={"http": kinko.url}, timeout=10, **kwargs)


def test_an_actual_request_from_an_allowed_origin_gets_cors_headers(kinko, cos, cos_proxy, cors_bucket):
    put = signed(kinko, cos_proxy, "PUT", cors_bucket, "a.txt", data=b"hi", headers={"Origin": PAGE})
    assert put.status_code == 200
    assert put.headers["Access-Control-Allow-Origin"] == PAGE
    assert put.headers["Access-Control-Expose-Headers"] == "ETag, x-cos-request-id"
    get = signed(kinko, cos_proxy, "GET", cors_bucket, "a.txt", headers={"Origin": PAGE})
    assert (get.content, get.headers["Access-Control-Allow-Origin"]) == (b"hi", PAGE)


def test_an_actual_request_from_another_origin_or_method_gets_no_cors_headers(kinko, cos, cos_proxy, cors_bucket):
    cos.put_object(Bucket=cors_bucket, Key="b.txt", Body=b"x")
    other = signed(kinko, cos_proxy, "GET", cors_bucket, "b.txt", headers={"Origin": "https://evil.example.net"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    deleted = signed(kinko, cos_proxy, "DELETE", cors_bucket, "b.txt", headers={"Origin": PAGE})  # not in the rule
    assert deleted.status_code == 204 and "Access-Control-Allow-Origin" not in deleted.headers
