from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The sales team's dashboard: it reads every app, so it sits above them all."""

    name = "outreach.dashboard"
    label = "dashboard"
