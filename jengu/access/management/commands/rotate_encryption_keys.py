from django.core.management.base import BaseCommand, CommandError, CommandParser

from jengu.fields import encrypted_fields_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt stored secrets (inbox passwords, ESP keys, webhook secrets) with the "
        "first key of FIELD_ENCRYPTION_KEY. Put the new key first, keep the old ones after "
        "it, run this, then remove the old keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, dry_run: bool, **options) -> None:
        report = encrypted_fields_rotate(dry_run=dry_run)
        for where in report.unreadable:
            self.stderr.write(f"{where}: no configured key can decrypt it; left as it is")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{verb}: {report.rotated}, already on the first key: {report.current}, "
            f"unreadable: {len(report.unreadable)}"
        )
        if report.unreadable:
            raise CommandError("some values could not be decrypted; add their key and run again")
