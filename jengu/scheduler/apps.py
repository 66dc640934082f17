from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    """Listed before `dramatiq_crontab`, so that its `crontab` command is ours."""

    name = "jengu.scheduler"
    verbose_name = "Scheduler"
