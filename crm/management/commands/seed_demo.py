"""`manage.py seed_demo`: demo user, inbox, campaign and prospects (idempotent)."""

from django.core.management.base import BaseCommand

from crm.demo import demo_seed


class Command(BaseCommand):
    help = "Create demo data for a first look (does nothing if it exists)."

    def handle(self, *args, **options) -> None:
        result = demo_seed()
        if not result.created:
            self.stdout.write("Demo data already present; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS("Demo data created: 1 campaign, 1 inbox, 50 prospects.")
        )
        if result.password:
            self.stdout.write(
                "Log in at http://127.0.0.1:8000/admin/ as "
                f"{result.username} / {result.password}  (shown once; change it in admin)"
            )
