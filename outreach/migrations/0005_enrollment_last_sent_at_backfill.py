"""Enrollments with a sent message get `last_sent_at`.

The sender looks up the thread a follow-up continues only for enrollments that
have sent (`last_sent_at` set). Before, a send recorded after its sequence had
moved on left it empty; this fills it from the latest sent message.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def last_sent_at_backfill(apps, schema_editor) -> None:
    Enrollment = apps.get_model("crm", "Enrollment")
    EmailMessage = apps.get_model("outreach", "EmailMessage")
    sent = EmailMessage.objects.filter(status="sent", sent_at__isnull=False)
    latest = sent.filter(enrollment_id=OuterRef("pk")).order_by("-sent_at").values("sent_at")[:1]
    Enrollment.objects.filter(
        last_sent_at__isnull=True, pk__in=sent.values("enrollment_id")
    ).update(last_sent_at=Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_prospect_tags_json_name_trigram"),
        ("outreach", "0004_uncertain_resolution"),
    ]

    operations = [migrations.RunPython(last_sent_at_backfill, migrations.RunPython.noop)]
