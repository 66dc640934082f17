"""Production settings refuse to start without their secrets and pass check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "jengu.settings.production",
    "SECRET_KEY": "x" * 30 + "-production-grade-secret-key-for-checks",
    "DATABASE_URL": "postgres://jengu@127.0.0.1:5432/jengu",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "crm.example.com",
}


# Test-only variables that other tests (browser tests) set for this process.
NOT_IN_PRODUCTION = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args: str, **env_overrides: str | None) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and k not in NOT_IN_PRODUCTION
    }
    env.update(PRODUCTION_ENV)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without(missing):
    result = manage("check", **{missing: None})
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_dev_settings_without_urls_or_embedded_services_say_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "jengu.settings.dev"
    # Load the dev settings with `.local/` pointed at an empty folder: no running
    # `make run` has written a services file there, so loading must refuse clearly.
    code = (
        "import jengu.settings.base as b, pathlib;"
        f"b.LOCAL_DIR = pathlib.Path({str(tmp_path)!r});"
        "import jengu.settings.dev"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DATABASE_URL is unset and no embedded services are running" in result.stderr


def test_replica_pinning_shorter_than_the_allowed_lag_is_refused():
    result = manage(
        "check", DATABASE_REPLICA_MAX_LAG_SECONDS="30", DATABASE_REPLICA_PIN_SECONDS="10"
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_PIN_SECONDS must be at least" in result.stderr


def test_production_settings_with_rabbitmq_and_replicas_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        BROKER_URL="amqp://jengu:secret@rabbitmq.internal:5672/jengu",
        DATABASE_REPLICA_URLS="postgres://jengu@replica-a/jengu,postgres://jengu@replica-b/jengu",
    )
    assert result.returncode == 0, result.stderr
