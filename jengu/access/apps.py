from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    """Roles (groups of Django permissions) and who may log in how often."""

    name = "jengu.access"
    label = "access"
    verbose_name = "Access: roles and logins"

    def ready(self) -> None:
        from jengu.access.roles import roles_sync_after_migrate

        # Sent once per app, in INSTALLED_APPS order; this app comes after every app
        # whose permissions the roles name, so those permissions exist by then.
        post_migrate.connect(roles_sync_after_migrate, sender=self)
