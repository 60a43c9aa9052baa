"""`{{ key.state|label }}`: a wire value (key state, job kind and status, access key status) in the reader's
language. English keeps the value people know from the KMS and job APIs; an unknown value is shown as it is."""

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()

LABELS = {
    # KMS key states (keys.models.KeyState)
    "Enabled": pgettext_lazy("key state", "Enabled"),
    "Disabled": pgettext_lazy("key state", "Disabled"),
    "PendingDelete": pgettext_lazy("key state", "PendingDelete"),
    "PendingImport": pgettext_lazy("key state", "PendingImport"),
    "Archived": pgettext_lazy("key state", "Archived"),
    # key origins
    "TENCENT_KMS": pgettext_lazy("key origin", "TENCENT_KMS"),
    "EXTERNAL": pgettext_lazy("key origin", "EXTERNAL"),
    # job statuses (buckets.models.JobStatus) and item states
    "queued": pgettext_lazy("job status", "queued"),
    "running": pgettext_lazy("job status", "running"),
    "succeeded": pgettext_lazy("job status", "succeeded"),
    "failed": pgettext_lazy("job status", "failed"),
    "cancelled": pgettext_lazy("job status", "cancelled"),
    "skipped": pgettext_lazy("job status", "skipped"),
    # job kinds (buckets.jobs)
    "encrypt_objects": _("Set encryption"),
    "delete_objects": _("Delete folder"),  # start_delete_prefix_job: a folder deleted recursively
    "lifecycle": _("Lifecycle"),  # start_lifecycle_job: expired objects deleted, stale uploads aborted
    # access key statuses (roles.models.ApiKeyStatus)
    "Active": pgettext_lazy("access key status", "Active"),
    "Inactive": pgettext_lazy("access key status", "Inactive"),
    # audit results
    "ok": pgettext_lazy("result", "ok"),
}


@register.filter
def label(value) -> str:
    return str(LABELS.get(str(value), value))
