from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "jengu.apikeys"
    label = "apikeys"
    verbose_name = "API keys and webhooks"
