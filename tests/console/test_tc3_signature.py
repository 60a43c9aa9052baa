"""API 3.0 signatures pinned by the spec's captured requests (tc3-kms-cam.md §2.3, §2.6) and Tencent's own vector."""

import hashlib

import pytest

from console import tcapi
from roles import service as roles

# §2.3: KmsClient.Encrypt with the timestamp frozen at 1700000000.
EXAMPLE_SECRET_ID = "AKIDEXAMPLE"
EXAMPLE_SECRET_KEY = "SECRETEXAMPLEKEY"
EXAMPLE_BODY = (
    b'{"KeyId": "23e80852-1e38-11e9-b129-5cb9019b4b01", "Plaintext": "aGVsbG8=", '
    b'"EncryptionContext": "{\\"a\\":\\"b\\"}"}'
)
EXAMPLE_TIMESTAMP = "1700000000"
EXAMPLE_CANONICAL_REQUEST = (
    "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:18768\n\ncontent-type;host\n"
    "cb7cba6a7c6dfbd4e819c7e42797022f82b056e75683f1be2e23da383ed9ed84"
)
EXAMPLE_SIGNATURE = "d7533d832791359a0b1c4c68868fe430a0319f01a8bc90525842a3b77fce3caf"
SIGNED = ["content-type", "host"]

# Tencent's published CVM DescribeInstances vector (the asterisks are part of the key as published).
CVM_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3*******"
CVM_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
CVM_SIGNATURE = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"

# §2.3 GET variant: DescribeKeys with two ids.
GET_QUERY = "KeyIds.0=23e80852-1e38-11e9-b129-5cb9019b4b01&KeyIds.1=x"
GET_CANONICAL_REQUEST = (
    "GET\n/\nKeyIds.0=23e80852-1e38-11e9-b129-5cb9019b4b01&KeyIds.1=x\n"
    "content-type:application/x-www-form-urlencoded\nhost:127.0.0.1:18765\n\ncontent-type;host\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

# §2.6: HmacSHA256 DescribeKeys, captured.
LEGACY_TIMESTAMP = 1795755116
LEGACY_SIGNATURE = "0JwmyJ5stEbVFoHUihQTZCgUZhLWGNRxvjwOOpyIP4U="


def call(method="POST", host="127.0.0.1:18768", content_type="application/json", body=b"", query="", **headers):
    names = {"content-type": content_type, "host": host}
    names.update({name.replace("_", "-"): value for name, value in headers.items()})
    return tcapi.RawCall(
        method=method, host=host, content_type=content_type, raw_query=query, body=body, headers=names, form=None
    )


def example_call(**headers) -> tcapi.RawCall:
    return call(body=EXAMPLE_BODY, **headers)


def legacy_form(**changes) -> dict[str, str]:
    form = {
        "Action": "DescribeKeys",
        "KeyIds.0": "23e80852-1e38-11e9-b129-5cb9019b4b01",
        "KeyIds.1": "x",
        "Language": "zh-CN",
        "Nonce": "617982846830224656",
        "Region": "ap-guangzhou",
        "RequestClient": "SDK_PYTHON_3.1.181",
        "SecretId": EXAMPLE_SECRET_ID,
        "SignatureMethod": "HmacSHA256",
        "Timestamp": str(LEGACY_TIMESTAMP),
        "Version": "2019-01-18",
        "Signature": LEGACY_SIGNATURE,
    }
    form.update(changes)
    return form


def legacy_call(form: dict[str, str]) -> tcapi.RawCall:
    return tcapi.RawCall(
        method="POST",
        host="127.0.0.1:18765",
        content_type="application/x-www-form-urlencoded",
        raw_query="",
        body=b"",
        headers={},
        form=form,
    )


@pytest.fixture
def example_key(db):
    account = roles.create_account("1251000000")
    return roles.create_api_key(account, EXAMPLE_SECRET_ID, EXAMPLE_SECRET_KEY)


def test_example_body_is_the_112_bytes_whose_hash_the_spec_gives():
    assert len(EXAMPLE_BODY) == 112
    assert hashlib.sha256(EXAMPLE_BODY).hexdigest() == EXAMPLE_CANONICAL_REQUEST.rsplit("\n", 1)[1]


def test_canonical_request_reproduces_the_worked_example():
    assert tcapi.canonical_request(example_call(), SIGNED) == EXAMPLE_CANONICAL_REQUEST


def test_tc3_signature_reproduces_the_worked_example():
    signature = tcapi.tc3_signature(
        EXAMPLE_SECRET_KEY, "2023-11-14", "kms", EXAMPLE_TIMESTAMP, tcapi.canonical_request(example_call(), SIGNED)
    )
    assert signature == EXAMPLE_SIGNATURE


def test_tc3_signature_depends_on_the_service_of_the_credential_scope():
    signature = tcapi.tc3_signature(
        EXAMPLE_SECRET_KEY, "2023-11-14", "cam", EXAMPLE_TIMESTAMP, EXAMPLE_CANONICAL_REQUEST
    )
    assert signature != EXAMPLE_SIGNATURE


def test_canonical_request_reproduces_tencents_cvm_vector_hash():
    cvm = call(host="cvm.tencentcloudapi.com", content_type="application/json; charset=utf-8", body=CVM_BODY)
    canonical = tcapi.canonical_request(cvm, SIGNED)
    assert canonical.rsplit("\n", 1)[1] == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )


def test_tc3_signature_reproduces_tencents_cvm_vector():
    cvm = call(host="cvm.tencentcloudapi.com", content_type="application/json; charset=utf-8", body=CVM_BODY)
    signature = tcapi.tc3_signature(
        CVM_SECRET_KEY, "2019-02-25", "cvm", "1551113065", tcapi.canonical_request(cvm, SIGNED)
    )
    assert signature == CVM_SIGNATURE


def test_get_canonical_request_signs_the_query_as_sent_and_an_empty_payload():
    get = call(method="GET", host="127.0.0.1:18765", content_type="application/x-www-form-urlencoded", query=GET_QUERY)
    assert tcapi.canonical_request(get, SIGNED) == GET_CANONICAL_REQUEST


def test_canonical_request_hashes_unsigned_payload_when_the_header_says_so():
    unsigned = example_call(x_tc_content_sha256="UNSIGNED-PAYLOAD")
    assert (
        tcapi.canonical_request(unsigned, SIGNED).rsplit("\n", 1)[1] == hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest()
    )


def example_authorization(signature: str = EXAMPLE_SIGNATURE, date: str = "2023-11-14") -> str:
    return (
        f"TC3-HMAC-SHA256 Credential={EXAMPLE_SECRET_ID}/{date}/kms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


def test_verify_tc3_accepts_the_captured_request(example_key):
    captured = example_call(authorization=example_authorization(), x_tc_timestamp=EXAMPLE_TIMESTAMP)
    principal, service = tcapi.verify_tc3(captured, now=1700000000 + 299)
    assert (principal.api_key.secret_id, service) == (EXAMPLE_SECRET_ID, "kms")


def test_verify_tc3_refuses_the_captured_request_six_minutes_later(example_key):
    captured = example_call(authorization=example_authorization(), x_tc_timestamp=EXAMPLE_TIMESTAMP)
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_tc3(captured, now=1700000000 + 360)
    assert err.value.code == "AuthFailure.SignatureExpire"


def test_verify_tc3_refuses_a_changed_body(example_key):
    changed = call(
        body=EXAMPLE_BODY.replace(b"aGVsbG8=", b"aGVsbG9="),
        authorization=example_authorization(),
        x_tc_timestamp=EXAMPLE_TIMESTAMP,
    )
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_tc3(changed, now=1700000000)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_verify_tc3_refuses_a_scope_date_in_beijing_time(example_key):
    beijing = example_call(authorization=example_authorization(date="2023-11-15"), x_tc_timestamp=EXAMPLE_TIMESTAMP)
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_tc3(beijing, now=1700000000)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_verify_legacy_reproduces_the_captured_hmac_sha256_signature(example_key):
    principal = tcapi.verify_legacy(legacy_call(legacy_form()), now=LEGACY_TIMESTAMP + 5)
    assert principal.api_key.secret_id == EXAMPLE_SECRET_ID


def test_verify_legacy_refuses_the_captured_signature_over_other_parameters(example_key):
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_legacy(legacy_call(legacy_form(**{"KeyIds.1": "y"})), now=LEGACY_TIMESTAMP)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_verify_legacy_refuses_a_stale_timestamp(example_key):
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_legacy(legacy_call(legacy_form()), now=LEGACY_TIMESTAMP + 301)
    assert err.value.code == "AuthFailure.SignatureExpire"


def test_verify_legacy_refuses_an_unknown_secret_id(db):
    with pytest.raises(tcapi.ApiError) as err:
        tcapi.verify_legacy(legacy_call(legacy_form()), now=LEGACY_TIMESTAMP)
    assert err.value.code == "AuthFailure.SecretIdNotFound"


def test_unflatten_rebuilds_lists_of_values_and_of_objects():
    flat = {
        "KeyIds.0": "a",
        "KeyIds.1": "b",
        "Tags.0.TagKey": "env",
        "Tags.0.TagValue": "dev",
        "Tags.1.TagKey": "team",
        "Tags.1.TagValue": "kms",
        "Limit": "10",
    }
    assert tcapi._unflatten(flat) == {
        "KeyIds": ["a", "b"],
        "Tags": [{"TagKey": "env", "TagValue": "dev"}, {"TagKey": "team", "TagValue": "kms"}],
        "Limit": "10",
    }


def test_unflatten_orders_list_items_by_number_not_by_text():
    flat = {f"KeyIds.{i}": f"k{i}" for i in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9)}
    assert tcapi._unflatten(flat) == {"KeyIds": [f"k{i}" for i in range(11)]}


def test_unflatten_rebuilds_lists_inside_objects_inside_lists():
    flat = {"TagFilters.0.TagKey": "env", "TagFilters.0.TagValue.0": "dev", "TagFilters.0.TagValue.1": "prod"}
    assert tcapi._unflatten(flat) == {"TagFilters": [{"TagKey": "env", "TagValue": ["dev", "prod"]}]}
