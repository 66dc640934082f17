from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "jengu.events"
    label = "events"
    verbose_name = "Events and dead letters"

    def ready(self) -> None:
        # Imported once the models are loaded (Django's rule for ready()).
        from jengu.events.receivers import receivers_connect

        receivers_connect()
