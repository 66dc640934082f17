"""`manage.py warmup_status`: each inbox's cap today, sends so far and next free slot."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from outreach.sending.rotation import inbox_breaker
from outreach.sending.warmup import warmup_status


def _wait(seconds: float) -> str:
    if seconds <= 0:
        return "now"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"in {hours}h{minutes:02d}m" if hours else f"in {minutes}m{secs:02d}s"


class Command(BaseCommand):
    help = "Print each inbox's warm-up cap for today, sends so far and its next free slot."

    def handle(self, *args, **options) -> None:
        header = f"{'inbox':<36} {'cap':>5} {'sent':>5} {'next slot':<12} {'state'}"
        self.stdout.write(header)
        for row in warmup_status():
            inbox = row.inbox
            flags = [
                "inactive" if not inbox.active else "",
                "first steps paused" if inbox.sending_paused else "",
                f"breaker {inbox_breaker(inbox).state}",
            ]
            self.stdout.write(
                f"{inbox.email:<36} {row.cap:>5} {row.sent_today:>5} "
                f"{_wait(row.next_free_in_seconds):<12} {', '.join(f for f in flags if f)}"
            )
