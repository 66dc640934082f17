from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"

    def ready(self) -> None:
        # Connects the django-anymail inbound signal receiver (no threads, no I/O).
        from outreach.replies import webhooks  # noqa: F401
