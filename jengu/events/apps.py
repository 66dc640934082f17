from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "jengu.events"
    label = "events"
    verbose_name = "Events and dead letters"
