"""Answer a sent demo e-mail (from `.local/mail/`) as the prospect would, and ingest it."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outreach.replies.demo import KINDS, demo_reply_eml


class Command(BaseCommand):
    help = (
        "Write the prospect's reply to a sent .eml (interested, meeting, question, "
        "not_interested, unsubscribe, ooo, bounce) and run it through the reply pipeline."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("sent", type=Path, help="A sent message, e.g. .local/mail/….eml")
        parser.add_argument("--kind", choices=KINDS, default="interested")
        parser.add_argument("--out", type=Path, help="Also keep the reply .eml here.")
        parser.add_argument("--queue", action="store_true", help="Leave it to a worker.")

    def handle(self, *args, sent: Path, kind: str, out: Path | None, queue: bool, **options):
        try:
            raw = sent.read_bytes()
        except OSError as exc:
            raise CommandError(f"{sent}: {exc.strerror}") from exc
        reply = demo_reply_eml(sent=raw, kind=kind, now=timezone.now())
        target = out or sent.with_name(f"{sent.stem}.reply-{kind}.eml")
        target.write_bytes(reply)
        self.stdout.write(f"reply written to {target}")
        call_command("ingest_eml", str(target), *(["--queue"] if queue else []), stdout=self.stdout)
