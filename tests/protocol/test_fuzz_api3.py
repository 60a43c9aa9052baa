"""Property-based test of the API 3.0 edge (issue 12): generated KMS and CAM calls, TC3-signed from the signature
spec (and some in the legacy HmacSHA256 form, flattened `Tags.0.TagKey=` parameters included), to every registered
action and to unknown actions and versions, with bodies built from each action's parameter names holding values of
every JSON type (wrong ones, huge integers, deep nesting), or bodies that are not JSON objects at all. Whatever
comes in, the answer is never a 5xx nor an InternalError, it is a well-formed Response (with a Code and a Message
when it is an Error), and the server logs no traceback. Cases are derandomized (tests/fuzzing.py)."""

import base64
import json
import uuid

import requests
from hypothesis import strategies as st

import keys.api  # noqa: F401 - registers the KMS actions
import roles.api  # noqa: F401 - registers the CAM actions
from console import tcapi
from tests.fuzzing import fuzz_settings, json_scalars, json_values, nested, send_cases
from tests.live import REGION
from tests.protocol.api3 import activate_kms, legacy_post, signed_post

SETTINGS = fuzz_settings(150)
SERVICES = {service: version for version, service in tcapi.VERSIONS.items()}
ACTIONS = sorted(tcapi.ACTIONS)


def parameter_names(service: str, action: str) -> list[str]:
    registered = tcapi.ACTIONS.get((service, action))
    return sorted(registered.params().fields) if registered and registered.params else []


# -- strategies ----------------------------------------------------------------------------------------------

any_json = json_values(
    json_scalars(
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
    )
)


# An action travels in a header: no control characters, no leading or trailing whitespace.
header_text = st.text(st.characters(exclude_categories=["Cc", "Zl", "Zp"]), max_size=20).map(str.strip)


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
    params = draw(st.dictionaries(st.sampled_from(names), any_json, max_size=len(names)) if names else st.just({}))
    params.update(draw(st.dictionaries(st.text(max_size=12), any_json, max_size=2)) if draw(st.booleans()) else {})
    body = draw(
        st.one_of(
            st.just(json.dumps(params).encode()),
            st.just(json.dumps(params).encode()),
            st.just(json.dumps(params).encode()),
            any_json.map(lambda value: json.dumps(value).encode()),  # a list, a string, a number …
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


def send(kinko, call: dict) -> requests.Response:
    if call["form"]:
        return send_legacy(kinko, call)
    return signed_post(
        kinko, call["service"], call["action"], call["body"], version=call["version"], region=call["region"]
    )


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


def check_answer(call: dict, response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    reply = response.json()["Response"]
    assert isinstance(reply.get("RequestId"), str), reply
    if "Error" in reply:
        error = reply["Error"]
        assert isinstance(error.get("Code"), str) and error["Code"], reply
        assert isinstance(error.get("Message"), str), reply
        assert error["Code"] != "InternalError", reply


def test_generated_api3_calls_never_answer_a_server_error_nor_log_a_traceback(kinko, record_property):
    activate_kms(kinko)
    send_cases(
        "api3", SETTINGS, api_calls(), lambda call: send(kinko, call), check_answer, kinko.log_path, record_property
    )
