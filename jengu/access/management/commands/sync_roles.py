from django.core.management.base import BaseCommand, CommandError

from jengu.access.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = (
        "Create the Viewer, Sales and Operator groups and reset their permissions to "
        "the documented lists (also done after every migrate)."
    )

    def handle(self, *args, **options) -> None:
        missing = roles_sync()
        for role in ROLES:
            self.stdout.write(f"{role.name}: {len(role.permissions)} permissions")
        if missing:
            raise CommandError(f"permissions not found (run migrate first): {', '.join(missing)}")
