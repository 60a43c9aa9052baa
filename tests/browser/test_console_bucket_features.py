"""Bucket tags, CORS rules, bucket policy and object tags in the console, in headless Chromium (axe on every page
the guard watches), each change confirmed through the COS SDK; an invalid policy or rule is refused next to its
field with what was typed kept."""

import json

import pytest
from playwright.sync_api import Page, expect
from qcloud_cos import CosServiceError

from tests.live import APPID, REGION
from tests.protocol.support import service_error


def tags_of(answer: dict) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value") or "" for tag in (answer.get("TagSet") or {}).get("Tag", [])}


def fill_tags(form, tags: dict[str, str]) -> None:
    for row, (key, value) in enumerate(tags.items()):
        form.locator('input[name="tag_key"]').nth(row).fill(key)
        form.locator('input[name="tag_value"]').nth(row).fill(value)


def read_policy(bucket: str) -> str:
    statement = {
        "principal": {"qcs": ["qcs::cam::anyone:anyone"]},
        "effect": "allow",
        "action": ["name/cos:GetObject"],
        "resource": [f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"],
    }
    return json.dumps({"version": "2.0", "statement": [statement]}, indent=2)


def test_bucket_tags_set_in_the_console_are_the_bucket_tagging_of_cos(page: Page, cos, bucket):
    page.goto(f"/buckets/{bucket}/settings/")
    form = page.locator("#bucket-tags")
    fill_tags(form, {"team": "kinko", "stage": "prod"})
    form.get_by_role("button", name="Save tags").click()
    expect(page.locator("p.message")).to_contain_text("Tags saved.")
    assert tags_of(cos.get_bucket_tagging(Bucket=bucket)) == {"team": "kinko", "stage": "prod"}
    expect(page.locator('#bucket-tags input[name="tag_key"]').first).to_have_value("team")


def test_an_invalid_tag_key_is_shown_with_the_rows_kept(page: Page, guard, cos, bucket):
    guard.expect_status(400, r"/tags/$")
    page.goto(f"/buckets/{bucket}/settings/")
    form = page.locator("#bucket-tags")
    fill_tags(form, {"bad<key": "v"})
    form.get_by_role("button", name="Save tags").click()
    expect(page.locator("#bucket-tags-error")).to_contain_text("A tag key is 1 to 128")
    expect(page.locator('#bucket-tags input[name="tag_key"]').first).to_have_value("bad<key")
    with pytest.raises(CosServiceError) as err:
        cos.get_bucket_tagging(Bucket=bucket)
    assert service_error(err.value) == (404, "NoSuchTagSet")


def test_a_bucket_policy_set_in_the_console_is_the_policy_cos_answers(page: Page, cos, bucket):
    page.goto(f"/buckets/{bucket}/settings/")
    page.get_by_label("Policy document (JSON)").fill(read_policy(bucket))
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("p.message")).to_contain_text("Bucket policy saved.")
    stored = json.loads(cos.get_bucket_policy(Bucket=bucket)["Policy"])
    assert stored["statement"][0]["action"] == ["name/cos:GetObject"]
    expect(page.get_by_label("Policy document (JSON)")).to_have_value(json.dumps(stored, indent=2))


def test_an_invalid_policy_is_refused_next_to_its_field_with_the_text_kept(page: Page, guard, cos, bucket):
    guard.expect_status(400, r"/policy/$")
    typed = read_policy("other-" + bucket)
    page.goto(f"/buckets/{bucket}/settings/")
    page.get_by_label("Policy document (JSON)").fill(typed)
    page.get_by_role("button", name="Save policy").click()
    error = page.locator("#bucket-policy .field.invalid #policy-error")
    expect(error).to_have_text(f"Each resource must name the bucket: …:{bucket}/<key>.")
    expect(page.get_by_label("Policy document (JSON)")).to_have_value(typed)
    expect(page.get_by_label("Policy document (JSON)")).to_have_attribute("aria-describedby", "policy-error")
    with pytest.raises(CosServiceError) as err:
        cos.get_bucket_policy(Bucket=bucket)
    assert service_error(err.value) == (404, "NoSuchBucketPolicy")


def test_object_tags_edited_on_the_object_page_are_the_object_tagging_of_cos(page: Page, cos, bucket):
    cos.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"tagged", Tagging="old=1")
    page.goto(f"/buckets/{bucket}/object/dir/a.txt")
    form = page.locator("#object-tags-form")
    expect(form.locator('input[name="tag_key"]').first).to_have_value("old")
    form.locator('input[name="tag_key"]').first.fill("")
    form.locator('input[name="tag_value"]').first.fill("")
    form.locator('input[name="tag_key"]').nth(1).fill("new")
    form.locator('input[name="tag_value"]').nth(1).fill("2")
    form.get_by_role("button", name="Save tags").click()
    expect(page.locator("#object-tags")).to_have_text("new=2")
    assert tags_of(cos.get_object_tagging(Bucket=bucket, Key="dir/a.txt")) == {"new": "2"}


def test_a_cors_rule_set_in_the_console_is_the_bucket_cors_of_cos(page: Page, cos, bucket):
    page.goto(f"/buckets/{bucket}/settings/")
    rule = page.locator("#cors-rule-0")
    rule.get_by_label("Rule ID").fill("web")
    rule.get_by_label("Allowed origins (one per line)").fill("https://app.example\nhttps://*.example.org")
    rule.get_by_label("PUT").check()
    rule.get_by_label("GET", exact=True).check()
    rule.get_by_label("Max age (seconds)").fill("600")
    page.get_by_role("button", name="Save CORS rules").click()
    expect(page.locator("p.message")).to_contain_text("CORS rules saved.")
    (stored,) = cos.get_bucket_cors(Bucket=bucket)["CORSRule"]
    assert (stored["ID"], stored["MaxAgeSeconds"]) == ("web", "600")
    assert stored["AllowedOrigin"] == ["https://app.example", "https://*.example.org"]
    assert sorted(stored["AllowedMethod"]) == ["GET", "PUT"]
    expect(page.locator("#cors-rule-1")).to_be_attached()  # the saved rule, then a new one


def test_an_invalid_cors_rule_is_refused_with_the_rule_kept(page: Page, guard, cos, bucket):
    guard.expect_status(400, r"/cors/$")
    page.goto(f"/buckets/{bucket}/settings/")
    rule = page.locator("#cors-rule-0")
    rule.get_by_label("Allowed origins (one per line)").fill("https://app.example")
    page.get_by_role("button", name="Save CORS rules").click()
    expect(page.locator("#bucket-cors-error")).to_have_text(
        "Each CORSRule needs an AllowedOrigin and an AllowedMethod."
    )
    expect(page.locator("#cors-rule-0").get_by_label("Allowed origins (one per line)")).to_have_value(
        "https://app.example"
    )
    with pytest.raises(CosServiceError) as err:
        cos.get_bucket_cors(Bucket=bucket)
    assert service_error(err.value) == (404, "NoSuchCORSConfiguration")
