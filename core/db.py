"""Small ORM helpers for hot paths, and what makes PostgreSQL behave as SQLite does where the domain relies on it."""

from django.db import connection, models
from django.db.models import QuerySet


def one(queryset: QuerySet):
    """The row a unique lookup finds, or None: `.first()` would add an ORDER BY the lookup does not need."""
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None


def lock(row: models.Model) -> bool:
    """Inside a transaction: hold `row` (SELECT ... FOR UPDATE) until the transaction ends, so that what is read
    about it and under it next stays true until this transaction writes; False when the row is gone. SQLite's
    BEGIN IMMEDIATE already holds the whole database, and ignores FOR UPDATE."""
    return type(row).objects.select_for_update().filter(pk=row.pk).exists()


def serialize(scope: str) -> None:
    """Inside a transaction: the transactions that name `scope` take turns until this one ends, for a read that
    decides a write no row lock can cover (the next number of a sequence). SQLite's BEGIN IMMEDIATE already makes
    every writer take its turn; PostgreSQL takes a transaction-scoped advisory lock on the scope's name."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [scope])


class ByteOrderCharField(models.CharField):
    """A CharField compared, and so ordered, by its UTF-8 bytes on every database: object keys list in byte order
    as COS does. SQLite compares text with BINARY already; PostgreSQL's columns get the "C" collation, as the
    database's own (en_US.UTF-8, say) would sort 'B' between 'a' and 'c' and ignore punctuation."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
