"""How much each key is used, per day, for the console's overview: counted from the KMS audit trail, which
records every call (keys.service._record), so no second counter is needed."""

import datetime

from django.db.models import Count
from django.db.models.functions import TruncDate

from keys.models import AuditEvent
from roles.models import Account

# The calls that use a key's material: what "KMS calls" means on the overview (not describes or lists).
CRYPTOGRAPHIC_ACTIONS = ("GenerateDataKey", "Encrypt", "Decrypt", "ReEncrypt")


def calls_per_day(account: Account, since: datetime.date) -> dict[str, dict[datetime.date, int]]:
    """{KeyId: {day: successful cryptographic calls}} from `since` (UTC days) on."""
    rows = (
        AuditEvent.objects.filter(
            account=account,
            action__in=CRYPTOGRAPHIC_ACTIONS,
            error_code="",
            created_at__date__gte=since,
        )
        .exclude(key_id="")
        .annotate(day=TruncDate("created_at"))
        .values("key_id", "day")
        .annotate(calls=Count("id"))
    )
    found: dict[str, dict[datetime.date, int]] = {}
    for row in rows:
        found.setdefault(row["key_id"], {})[row["day"]] = row["calls"]
    return found
