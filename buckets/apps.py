"""Buckets app: the COS object store."""

from django.apps import AppConfig


class BucketsConfig(AppConfig):
    name = "buckets"
