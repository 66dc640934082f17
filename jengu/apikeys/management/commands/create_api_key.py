from django.core.management.base import BaseCommand, CommandError, CommandParser

from jengu.apikeys.keys import api_key_create
from jengu.apikeys.scopes import SCOPES


class Command(BaseCommand):
    help = "Create an API key for /api/v1/. The key is printed once, as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what uses the key, e.g. 'website form'.")
        access = parser.add_mutually_exclusive_group()
        access.add_argument(
            "--read-only", action="store_true", help="Allow GET requests only (writes get 403)."
        )
        access.add_argument(
            "--scopes",
            help=f"Comma-separated scopes, from: {', '.join(SCOPES)}. Default: all of them.",
        )

    def handle(self, *args, name: str, read_only: bool, scopes: str | None, **options) -> None:
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()] if scopes else None
        if scopes is not None and not wanted:
            raise CommandError("--scopes needs at least one scope")
        try:
            created = api_key_create(name=name, scopes=wanted, read_only=read_only)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"Created API key #{created.api_key.pk} {name!r} with scopes "
            f"{', '.join(created.api_key.scopes)} (prefix {created.api_key.prefix}). "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(created.key)
