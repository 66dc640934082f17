# The events still waiting on a queue (a down region's handover). Built concurrently:
# the event log is the biggest table, and a plain CREATE INDEX would block its writes.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("events", "0003_event_operator_permissions"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("status__in", ["emitted", "started", "retried"])),
                fields=["queue", "created_at"],
                name="event_waiting_queue_idx",
            ),
        ),
    ]
