"""Property-based test of the API 3.0 edge (issue 12): generated KMS and CAM calls, TC3-signed from the signature
spec (and some in the legacy HmacSHA256 form, flattened `Tags.0.TagKey=` parameters included), to every registered
action and to unknown actions and versions, with bodies built from each action's parameter names holding values of
every JSON type (wrong ones, huge integers, deep nesting), or bodies that are not JSON objects at all. Whatever
comes in, the answer is never a 5xx nor an InternalError, it is a well-formed Response (with a Code and a Message
when it is an Error), and the server logs no traceback. Cases are derandomized (tests/fuzzing.py)."""

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st

import keys.api  # noqa: F401 - registers the KMS actions
import roles.api  # noqa: F401 - registers the CAM actions
from console import tcapi
from tests.fuzzing import CASES, LogWatch, fuzz_settings, no_traceback
from tests.live import REGION
from tests.protocol.api3 import legacy_post

SETTINGS = fuzz_settings(150)
SERVICES = {service: version for version, service in tcapi.VERSIONS.items()}
ACTIONS = sorted(tcapi.ACTIONS)


def parameter_names(service: str, action: str) -> list[str]:
    registered = tcapi.ACTIONS.get((service, action))
    return sorted(registered.params().fields) if registered and registered.params else []


# -- strategies ----------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "*",
            "Enabled",
            "Disabled",
            "All",
            "QCS",
            "User",
            "0",
            "-1",
            "1e999",
            "ap-guangzhou",
            "RSAES_OAEP_SHA_256",
            "RSA_2048",
            "AES_256",
            "{}",
            '{"version":"2.0","statement":[]}',
            base64.b64encode(b"x" * 40).decode(),
            "\x00",
            "\U0010ffff",
            str(uuid.UUID(int=0)),
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=15,
)


# An action travels in a header: no control characters, no leading or trailing whitespace.
header_text = st.text(st.characters(exclude_categories=["Cc", "Zl", "Zp"]), max_size=20).map(str.strip)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def api_calls(draw):
    service, action = draw(
        st.one_of(
            st.sampled_from(ACTIONS),
            st.sampled_from(ACTIONS),
            st.tuples(st.sampled_from(["kms", "cam", "sts", "cvm", ""]), header_text),
        )
    )
    version = draw(st.one_of(st.just(SERVICES.get(service, "2019-01-18")), st.sampled_from([*tcapi.VERSIONS, "", "x"])))
    names = parameter_names(service, action)
    params = draw(st.dictionaries(st.sampled_from(names), json_values, max_size=len(names)) if names else st.just({}))
    params.update(draw(st.dictionaries(st.text(max_size=12), json_values, max_size=2)) if draw(st.booleans()) else {})
    body = draw(
        st.one_of(
            st.just(json.dumps(params).encode()),
            st.just(json.dumps(params).encode()),
            st.just(json.dumps(params).encode()),
            json_values.map(lambda value: json.dumps(value).encode()),  # a list, a string, a number …
            st.integers(1, 20000).map(lambda n: f'{{"{names[0] if names else "X"}": {nested(n)}}}'.encode()),
            st.binary(max_size=100),
            st.sampled_from([b"", b"{", b'{"a": 1e999999}', b'{"a": NaN}', b'{"a": "\\ud800"}', b"\xff\xfe{}"]),
        )
    )
    return {
        "service": service,
        "action": action,
        "version": version,
        "region": draw(st.sampled_from([REGION, REGION, "ap-shanghai", "", "nowhere", "ap-guangzhou\u00e9"])),
        "params": params,
        "body": body,
        "form": draw(st.integers(0, 3)) == 0,
        # Flattened names as they come, conflicts included: `Tags=1&Tags.0.Key=k`.
        "raw_form": draw(
            st.dictionaries(
                st.builds(
                    str.__add__, st.sampled_from(names or ["X"]), st.sampled_from(["", ".0", ".0.Key", ".", ".1.Value"])
                ),
                st.text(max_size=10),
                max_size=3,
            )
        ),
    }


# -- sending -------------------------------------------------------------------------------------------------


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_post(kinko, call: dict) -> requests.Response:
    """As tests/protocol/api3.py signs, with the action, version and region of the case."""
    host, content_type, timestamp = f"127.0.0.1:{kinko.port}", "application/json", int(time.time())
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    body = call["body"]
    canonical = f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n" + (
        hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/{call['service']}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(("TC3" + kinko.secret_key).encode(), date), call["service"]), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": call["action"],
        "X-TC-Version": call["version"],
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": call["region"],
        "Authorization": f"TC3-HMAC-SHA256 Credential={kinko.secret_id}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}",
    }
    headers = {name: value.encode("utf-8").decode("latin-1") for name, value in headers.items()}
    return requests.post(f"{kinko.url}/", data=body, headers=headers, timeout=30)


def flatten(value, prefix: str) -> list[tuple[str, str]]:
    """Legacy parameters: lists and objects flattened to `Name.0.Field=` pairs."""
    if isinstance(value, dict):
        return [pair for name, inner in value.items() for pair in flatten(inner, f"{prefix}.{name}")]
    if isinstance(value, list):
        return [pair for index, inner in enumerate(value) for pair in flatten(inner, f"{prefix}.{index}")]
    return [(prefix, "" if value is None else str(value))]


def send_legacy(kinko, call: dict) -> requests.Response:
    form = dict(pair for name, value in call["params"].items() for pair in flatten(value, name))
    form.update(call["raw_form"])
    return legacy_post(kinko, call["service"], call["action"], form, region=call["region"], version=call["version"])


def check_answer(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    reply = response.json()["Response"]
    assert isinstance(reply.get("RequestId"), str), reply
    if "Error" in reply:
        error = reply["Error"]
        assert isinstance(error.get("Code"), str) and error["Code"], reply
        assert isinstance(error.get("Message"), str), reply
        assert error["Code"] != "InternalError", reply


@pytest.fixture(scope="module")
def kms_active(kinko):
    api = requests.Session()
    api.headers["Authorization"] = f"Token {kinko.api_token}"
    assert api.post(f"{kinko.url}/api/v1/kms/activate/", timeout=30).status_code < 300


def test_generated_api3_calls_never_answer_a_server_error_nor_log_a_traceback(kinko, kms_active, record_property):
    log = LogWatch(kinko.log_path)
    sent = 0

    @SETTINGS
    @given(call=api_calls())
    def check(call):
        nonlocal sent
        note(repr(call))
        response = send_legacy(kinko, call) if call["form"] else tc3_post(kinko, call)
        sent += 1
        check_answer(response)
        written = log.new()
        assert no_traceback(written), written[-3000:]

    check()
    CASES["api3"] += sent
    record_property("fuzz_cases", sent)
    assert sent >= SETTINGS.max_examples, f"only {sent} API 3.0 cases ran"
