"""pytest plugin: start embedded PostgreSQL/Valkey when the URLs are unset.

Loaded with `-p jengu.testing.services` (see pyproject.toml) so it runs before
pytest-django reads the settings. With DATABASE_URL / REDIS_URL set, the suite
uses those servers instead and starts nothing.
"""

import os

import pytest

from jengu.embedded import LOCAL_DIR, EmbeddedServices

_services = EmbeddedServices(pg_dir=LOCAL_DIR / "test-pgdata")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jengu.settings.test")
    _services.fill_environment(os.environ)


def pytest_unconfigure(config) -> None:
    _services.stop()
