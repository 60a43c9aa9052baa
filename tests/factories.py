"""factory_boy factories with real defaults: a test spells out only what it is about."""

import hashlib
import uuid

import factory
from factory.django import DjangoModelFactory

from buckets.models import Bucket, StoredObject
from core import keystore
from roles.models import Account, ApiKey

REGION = "ap-guangzhou"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    class Params:
        api_token = factory.Sequence(lambda n: f"api-token-{n}")

    appid = factory.Sequence(lambda n: str(1300000000 + n))
    uin = factory.Sequence(lambda n: str(100000000000 + n))
    api_token_sealed = factory.LazyAttribute(
        lambda o: keystore.seal_secret(o.api_token.encode(), b"apitoken:" + o.appid.encode())
    )


class ApiKeyFactory(DjangoModelFactory):
    class Meta:
        model = ApiKey

    class Params:
        secret_key = factory.Sequence(lambda n: f"SecretKey{n:023d}")

    account = factory.SubFactory(AccountFactory)
    secret_id = factory.Sequence(lambda n: f"AKIDtest{n:028d}")
    secret_key_sealed = factory.LazyAttribute(
        lambda o: keystore.seal_secret(o.secret_key.encode(), b"apikey:" + o.secret_id.encode())
    )


class BucketFactory(DjangoModelFactory):
    class Meta:
        model = Bucket

    owner = factory.SubFactory(AccountFactory)
    name = factory.LazyAttributeSequence(lambda o, n: f"bucket{n}-{o.owner.appid}")
    region = REGION


class StoredObjectFactory(DjangoModelFactory):
    """A row only: its blob id names no file, which is enough for listings."""

    class Meta:
        model = StoredObject

    bucket = factory.SubFactory(BucketFactory)
    key = factory.Sequence(lambda n: f"object-{n}")
    size_bytes = 0
    etag = hashlib.md5(b"").hexdigest()
    crc64 = "0"
    blob = factory.LazyFunction(lambda: uuid.uuid4().hex)
