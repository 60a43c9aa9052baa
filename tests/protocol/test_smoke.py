"""The SDK reaches a live server and round-trips an object."""


def test_get_object_returns_what_put_object_stored(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    got = any_cos.get_object(Bucket=bucket, Key="a/b.txt")
    assert got["Body"].get_raw_stream().read() == b"hello"
