"""Small ORM helpers for hot paths."""

from django.db.models import QuerySet


def one(queryset: QuerySet):
    """The row a unique lookup finds, or None: `.first()` would add an ORDER BY the lookup does not need."""
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None
