"""Real `dramatiq` worker processes for tests that kill one mid-message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from jengu.health import workers_alive

ROOT = Path(__file__).resolve().parents[1]

# A silent worker's messages are requeued after 1 s (maintenance on every command),
# and a dead worker's event claims lapse within 1 s.
FAST_RECOVERY_ENV = {
    "DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "1000",
    "DRAMATIQ_MAINTENANCE_CHANCE": "1000000",
    "EVENT_CLAIM_TTL_SECONDS": "1",
}
# For benchmarks: the deployed defaults instead, with idle queues polled every 50 ms
# as in docker-compose.yml and `make run`.
DEPLOYED_ENV = {
    "DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "30000",
    "DRAMATIQ_MAINTENANCE_CHANCE": "10000",
    "EVENT_CLAIM_TTL_SECONDS": "30",
    "dramatiq_worker_timeout": "50",
}


def suite_database_url() -> str:
    """The suite's URL (machine server or embedded) pointed at pytest-django's test DB."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path="/" + connection.settings_dict["NAME"]).geturl()


@contextmanager
def worker_processes(
    *, log_dir: Path, modules: list[str], queues: list[str], threads: int, env: dict[str, str]
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Yield a `start()` that launches a worker process; SIGKILL leftovers at the end."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jengu.settings.test",
        "DATABASE_URL": suite_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "BROKER_URL": settings.BROKER_URL,
        **FAST_RECOVERY_ENV,
        **env,
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(log_dir / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "django_dramatiq.setup", *modules]
            + ["--processes", "1", "--threads", str(threads), "--queues", *queues],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_booted(process: subprocess.Popen) -> bool:
    """True once the worker `dramatiq` forked from `process` beats (it has booted)."""
    return any(_process_group(beat.pid) == process.pid for beat in workers_alive())


def _process_group(pid: int) -> int | None:
    # `start()` gives each `dramatiq` its own session: its workers share its group id.
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
