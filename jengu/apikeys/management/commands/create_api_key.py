from django.core.management.base import BaseCommand, CommandParser

from jengu.apikeys.keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for /api/v1/. The key is printed once, as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what uses the key, e.g. 'website form'.")
        parser.add_argument(
            "--read-only", action="store_true", help="Allow GET requests only (writes get 403)."
        )

    def handle(self, *args, name: str, read_only: bool, **options) -> None:
        created = api_key_create(name=name, read_only=read_only)
        kind = "read-only" if read_only else "read-write"
        self.stderr.write(
            f"Created {kind} API key #{created.api_key.pk} {name!r} "
            f"(prefix {created.api_key.prefix}). Store it now: it cannot be shown again."
        )
        self.stdout.write(created.key)
