from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    """Listed before `django_dramatiq`, so that its `rundramatiq` command is ours."""

    name = "jengu.processes"
    label = "processes"
    verbose_name = "Processes"
