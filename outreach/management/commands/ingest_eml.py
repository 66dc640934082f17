"""Drop .eml files into the reply pipeline (demo, support and bulk import tool).

Every file is handled on its own: an unreadable file or message is reported with
its reason and the batch goes on; the command exits non-zero when any failed.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outreach.models import InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.services import (
    ReplyResult,
    inbound_mark_failed,
    inbound_process,
    inbound_store,
)


class Command(BaseCommand):
    help = "Store RFC 822 .eml files as inbound mail and process them (label, thread, effects)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Only store and emit InboundEmail for a worker, instead of processing here.",
        )

    def handle(self, *args, files: list[Path], queue: bool = False, **options) -> None:
        failed = sum(not self._ingest(path, queue) for path in files)
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) could not be processed")

    def _ingest(self, path: Path, queue: bool) -> bool:
        """Store and process one file; report it on one line. True when it went through."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"{path}: not read: {exc.strerror or exc}")
            return False
        inbound = inbound_store(raw=raw, source=InboundEmail.Source.FILE, emit_event=queue)
        if queue:
            self.stdout.write(f"{path}: stored as inbound {inbound.pk}, queued")
            return True
        try:
            result = inbound_process(inbound=inbound)
        except MalformedEmailError as exc:
            self.stderr.write(f"{path}: inbound {inbound.pk} kept and flagged failed: {exc}")
            return False
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the batch
            inbound_mark_failed(inbound=inbound, error=f"{type(exc).__name__}: {exc}")
            self.stderr.write(f"{path}: inbound {inbound.pk} kept and flagged failed: {exc!r}")
            return False
        self.stdout.write(_line(path, result))
        return True


def _line(path: Path, result: ReplyResult) -> str:
    return (
        f"{path}: inbound {result.inbound_id} {result.status} label={result.label} "
        f"({result.method}, {result.confidence}) match={result.match} "
        f"prospect={result.prospect_id} effects={'; '.join(result.effects)}"
    )
