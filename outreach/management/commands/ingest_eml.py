"""Drop an .eml file into the reply pipeline (demo and support tool)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outreach.models import InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.services import inbound_process, inbound_store


class Command(BaseCommand):
    help = "Store an RFC 822 .eml file as inbound mail and process it (label, thread, effects)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Only store and emit InboundEmail for a worker, instead of processing here.",
        )

    def handle(self, *args, files: list[Path], queue: bool = False, **options) -> None:
        failed = 0
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from exc
            inbound = inbound_store(raw=raw, source=InboundEmail.Source.FILE, emit_event=queue)
            if queue:
                self.stdout.write(f"{path}: stored as inbound {inbound.pk}, queued")
                continue
            try:
                result = inbound_process(inbound=inbound)
            except MalformedEmailError as exc:
                failed += 1
                self.stderr.write(f"{path}: inbound {inbound.pk} kept, not processed: {exc}")
                continue
            self.stdout.write(
                f"{path}: inbound {result.inbound_id} {result.status} label={result.label} "
                f"({result.method}, {result.confidence}) match={result.match} "
                f"prospect={result.prospect_id} effects={'; '.join(result.effects)}"
            )
        if failed:
            raise CommandError(f"{failed} file(s) could not be processed")
