"""Preset (QCS) policies shipped as data. Tencent does not publish QcloudKMSAccessForCOSRole's document; this one
grants exactly the KMS actions COS needs on a customer's behalf (a local reconstruction, spec §6)."""

import json

PRESETS = [
    {
        "policy_id": 1,
        "name": "QcloudKMSAccessForCOSRole",
        "description": "Lets COS use KMS keys for server-side encryption (SSE-KMS) on the account's behalf.",
        "statement": [
            {
                "effect": "allow",
                "resource": "*",
                "action": [
                    "name/kms:GenerateDataKey",
                    "name/kms:Decrypt",
                    "name/kms:Encrypt",
                    "name/kms:DescribeKey",
                    "name/kms:ListKeys",
                ],
            }
        ],
    },
    {
        "policy_id": 2,
        "name": "QcloudCOSFullAccess",
        "description": "Full access to Cloud Object Storage.",
        "statement": [{"effect": "allow", "action": ["name/cos:*"], "resource": "*"}],
    },
    {
        "policy_id": 3,
        "name": "QcloudCOSReadOnlyAccess",
        "description": "Read-only access to Cloud Object Storage.",
        "statement": [
            {
                "effect": "allow",
                "resource": "*",
                "action": [
                    "name/cos:GetService",
                    "name/cos:HeadBucket",
                    "name/cos:GetBucket",
                    "name/cos:GetBucketLocation",
                    "name/cos:GetBucketACL",
                    "name/cos:ListMultipartUploads",
                    "name/cos:ListParts",
                    "name/cos:GetObject",
                    "name/cos:HeadObject",
                    "name/cos:GetObjectACL",
                ],
            }
        ],
    },
    {
        "policy_id": 4,
        "name": "QcloudKMSFullAccess",
        "description": "Full access to Key Management Service.",
        "statement": [{"effect": "allow", "action": ["name/kms:*"], "resource": "*"}],
    },
    {
        "policy_id": 5,
        "name": "QcloudCAMFullAccess",
        "description": "Full access to Cloud Access Management.",
        "statement": [{"effect": "allow", "action": ["name/cam:*"], "resource": "*"}],
    },
]

FIRST_CUSTOM_POLICY_ID = 100000000


def document(preset: dict) -> str:
    return json.dumps({"version": "2.0", "statement": preset["statement"]}, separators=(",", ":"))
