"""Daily rollups of the message tables into `DailyStat` rows.

`daily_stats_rollup(day=...)` recomputes one day from the source of truth and
replaces that day's rows in one transaction, so running it twice, late, or after
a crash gives the same numbers. The scheduler runs it every minute for today
(and for yesterday during the first hour, to catch late bounces and replies).

Metrics (per campaign, step, variant and inbox):
  sent, bounced    outbound messages by the day they were sent
  failed           outbound messages that failed, by the day they failed
  replied          inbound replies (not bounces or auto-replies), by arrival day
  positive         replies labelled interested or meeting
  unsubscribed     replies labelled unsubscribe
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from crm.models import DailyStat

# Columns of every SELECT below, in this order.
_COLUMNS = ("metric", "campaign_id", "step", "variant", "inbox_id", "value")

_OUTBOUND_SQL = """
SELECT m.metric, e.campaign_id, e.step, e.variant, e.inbox_id, count(*)
FROM outreach_emailmessage e
CROSS JOIN LATERAL (VALUES ('sent'), ('bounced')) AS m(metric)
WHERE e.direction = 'outbound' AND e.sent_at >= %(start)s AND e.sent_at < %(end)s
  AND e.status IN ('sent', 'bounced')
  AND (m.metric = 'sent' OR e.status = 'bounced')
GROUP BY 1, 2, 3, 4, 5
UNION ALL
SELECT 'failed', e.campaign_id, e.step, e.variant, e.inbox_id, count(*)
FROM outreach_emailmessage e
WHERE e.direction = 'outbound' AND e.status = 'failed'
  AND e.updated_at >= %(start)s AND e.updated_at < %(end)s
GROUP BY 1, 2, 3, 4, 5
"""

_REPLIES_SQL = """
SELECT m.metric, o.campaign_id, o.step, coalesce(o.variant, ''), i.inbox_id, count(*)
FROM outreach_inboundemail i
LEFT JOIN outreach_emailmessage o ON o.id = i.replied_to_id
CROSS JOIN LATERAL (VALUES ('replied'), ('positive'), ('unsubscribed')) AS m(metric)
WHERE i.received_at >= %(start)s AND i.received_at < %(end)s
  AND i.label NOT IN ('bounce_hard', 'bounce_soft', 'complaint', 'auto_reply')
  AND i.status = 'processed'
  AND (m.metric = 'replied'
       OR (m.metric = 'positive' AND i.label IN ('interested', 'meeting'))
       OR (m.metric = 'unsubscribed' AND i.label = 'unsubscribe'))
GROUP BY 1, 2, 3, 4, 5
"""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


@transaction.atomic
def daily_stats_rollup(*, day: date) -> int:
    """Replace `day`'s DailyStat rows with freshly computed ones; returns the row count."""
    start, end = day_bounds(day)
    rows = []
    with connection.cursor() as cursor:
        for sql in (_OUTBOUND_SQL, _REPLIES_SQL):
            cursor.execute(sql, {"start": start, "end": end})
            rows.extend(cursor.fetchall())
    DailyStat.objects.filter(day=day).delete()
    DailyStat.objects.bulk_create(
        DailyStat(day=day, **dict(zip(_COLUMNS, row, strict=True))) for row in rows
    )
    return len(rows)


def daily_stats_rollup_recent(*, now: datetime | None = None) -> list[date]:
    """Today's rollup, plus yesterday's during the first hour after midnight."""
    now = timezone.localtime(now)
    days = [now.date()]
    if now.hour == 0:
        days.insert(0, now.date() - timedelta(days=1))
    for day in days:
        daily_stats_rollup(day=day)
    return days
