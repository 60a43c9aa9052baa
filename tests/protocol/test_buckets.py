"""PUT / HEAD / DELETE Bucket and GET Bucket location: regions, name rules and conflicts."""

import pytest
from qcloud_cos import CosServiceError

from tests.live import APPID, cos_client
from tests.protocol import wire


def test_head_bucket_returns_the_bucket_region(any_cos, bucket):
    assert any_cos.head_bucket(Bucket=bucket)["x-cos-bucket-region"] == "ap-guangzhou"


def test_create_bucket_records_the_region_of_its_host(cos_shanghai, new_bucket_name):
    cos_shanghai.create_bucket(Bucket=new_bucket_name)
    assert cos_shanghai.head_bucket(Bucket=new_bucket_name)["x-cos-bucket-region"] == "ap-shanghai"


def test_create_bucket_through_the_proxy_records_its_region(cos_proxy, new_bucket_name):
    cos_proxy.create_bucket(Bucket=new_bucket_name)
    assert cos_proxy.head_bucket(Bucket=new_bucket_name)["x-cos-bucket-region"] == "ap-guangzhou"


def test_get_bucket_location_returns_the_bucket_region(any_cos, bucket):
    assert any_cos.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "ap-guangzhou"


def test_create_bucket_again_in_its_region_fails_with_bucket_already_owned_by_you(any_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        any_cos.create_bucket(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "BucketAlreadyOwnedByYou")


def test_create_bucket_with_a_name_taken_in_another_region_fails_with_bucket_already_exists(cos_shanghai, bucket):
    with pytest.raises(CosServiceError) as err:
        cos_shanghai.create_bucket(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "BucketAlreadyExists")


def test_create_bucket_with_a_name_taken_in_another_region_keeps_the_original(cos, cos_shanghai, bucket):
    with pytest.raises(CosServiceError):
        cos_shanghai.create_bucket(Bucket=bucket)
    assert cos.head_bucket(Bucket=bucket)["x-cos-bucket-region"] == "ap-guangzhou"


def test_bucket_is_not_found_through_another_region(cos_shanghai, bucket):
    with pytest.raises(CosServiceError) as err:
        cos_shanghai.list_objects(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchBucket")


def test_delete_bucket_removes_it(any_cos, new_bucket_name):
    any_cos.create_bucket(Bucket=new_bucket_name)
    any_cos.delete_bucket(Bucket=new_bucket_name)
    assert any_cos.bucket_exists(Bucket=new_bucket_name) is False


def test_delete_bucket_answers_204(kinko, cos, new_bucket_name):
    cos.create_bucket(Bucket=new_bucket_name)
    assert wire.send(kinko, cos, "DELETE", new_bucket_name).status_code == 204


def test_delete_bucket_with_objects_fails_with_bucket_not_empty(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="keep.txt", Body=b"x")
    with pytest.raises(CosServiceError) as err:
        any_cos.delete_bucket(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "BucketNotEmpty")


def test_delete_bucket_with_objects_keeps_them(cos, bucket):
    cos.put_object(Bucket=bucket, Key="keep.txt", Body=b"x")
    with pytest.raises(CosServiceError):
        cos.delete_bucket(Bucket=bucket)
    assert cos.get_object(Bucket=bucket, Key="keep.txt")["Body"].get_raw_stream().read() == b"x"


def test_delete_missing_bucket_fails_with_no_such_bucket(any_cos, new_bucket_name):
    with pytest.raises(CosServiceError) as err:
        any_cos.delete_bucket(Bucket=new_bucket_name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchBucket")


def test_list_objects_of_a_missing_bucket_fails_with_no_such_bucket(any_cos, new_bucket_name):
    with pytest.raises(CosServiceError) as err:
        any_cos.list_objects(Bucket=new_bucket_name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchBucket")


def test_put_object_into_a_missing_bucket_fails_with_no_such_bucket(any_cos, new_bucket_name):
    with pytest.raises(CosServiceError) as err:
        any_cos.put_object(Bucket=new_bucket_name, Key="a.txt", Body=b"x")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchBucket")


def test_head_missing_bucket_fails_with_no_such_resource(any_cos, new_bucket_name):
    with pytest.raises(CosServiceError) as err:
        any_cos.head_bucket(Bucket=new_bucket_name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchResource")


def test_bucket_exists_is_false_for_a_missing_bucket(any_cos, new_bucket_name):
    assert any_cos.bucket_exists(Bucket=new_bucket_name) is False


def test_bucket_exists_is_true_for_a_bucket(any_cos, bucket):
    assert any_cos.bucket_exists(Bucket=bucket) is True


@pytest.mark.parametrize(
    "name",
    [
        f"wrongappid-{int(APPID) + 1}",
        "noappid",
        f"ends-with-dash--{APPID}",
        f"-starts-with-dash-{APPID}",
        f"under_score-{APPID}",
    ],
)
def test_create_bucket_with_an_invalid_name_fails_with_invalid_bucket_name(kinko, cos, name):
    # Raw, because the SDK refuses some of these names itself.
    response = wire.send(kinko, cos, "PUT", name, host=f"{name}.cos.ap-guangzhou.myqcloud.com")
    assert (response.status_code, wire.error_code(response.content)) == (400, "InvalidBucketName")


def test_create_bucket_with_a_wrong_appid_suffix_through_the_sdk_fails_with_invalid_bucket_name(any_cos):
    with pytest.raises(CosServiceError) as err:
        any_cos.create_bucket(Bucket=f"wrongappid-{int(APPID) + 1}")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidBucketName")


def test_create_bucket_with_an_invalid_name_creates_nothing(kinko, cos):
    name = f"under_score-{APPID}"
    wire.send(kinko, cos, "PUT", name, host=f"{name}.cos.ap-guangzhou.myqcloud.com")
    listed = [entry["Name"] for entry in (cos.list_buckets()["Buckets"] or {"Bucket": []})["Bucket"]]
    assert name not in listed


def test_create_bucket_in_an_unserved_region_fails_with_invalid_argument(kinko, new_bucket_name):
    client = cos_client(kinko, Region="eu-frankfurt")
    with pytest.raises(CosServiceError) as err:
        client.create_bucket(Bucket=new_bucket_name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
