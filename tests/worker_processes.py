"""Real `dramatiq` worker and `manage.py crontab` processes, for tests that kill one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
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


def process_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a process on the suite's database and Redis, plus `env`."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jengu.settings.test",
        "DATABASE_URL": suite_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "BROKER_URL": settings.BROKER_URL,
        **FAST_RECOVERY_ENV,
        **env,
    }


def manage(*args: str, env: dict[str, str]) -> str:
    """Run `manage.py <args>` as an operator would; its output (fails on an error)."""
    command = [sys.executable, "manage.py", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=process_env(env), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def _processes(
    *, command: list[str], name: str, log_dir: Path, env: dict[str, str]
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Yield a `start()` that launches `command` on the suite's database and Redis
    (unless `env` says otherwise); its output goes to `process.log_path`. SIGKILL
    leftovers at the end."""
    full_env = process_env(env)
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log_path = log_dir / f"{name}-{len(started)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_path = log_path  # what it printed, for the test to read
        started.append(process)
        return process

    try:
        yield start
    finally:  # also when the test failed inside the `with`
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def worker_processes(
    *, log_dir: Path, modules: list[str], queues: list[str], threads: int, env: dict[str, str]
) -> AbstractContextManager[Callable[[], subprocess.Popen]]:
    """Yield a `start()` that launches a worker process; SIGKILL leftovers at the end."""
    command = [sys.executable, "-m", "dramatiq", "django_dramatiq.setup", *modules]
    command += ["--processes", "1", "--threads", str(threads), "--queues", *queues]
    return _processes(command=command, name="worker", log_dir=log_dir, env=env)


def scheduler_processes(
    *, log_dir: Path, env: dict[str, str]
) -> AbstractContextManager[Callable[[], subprocess.Popen]]:
    """Yield a `start()` that launches a `manage.py crontab` process."""
    command = [sys.executable, "manage.py", "crontab", "--no-heartbeat"]
    return _processes(command=command, name="scheduler", log_dir=log_dir, env=env)


def manage_processes(
    *, log_dir: Path, args: list[str], env: dict[str, str], name: str | None = None
) -> AbstractContextManager[Callable[[], subprocess.Popen]]:
    """Yield a `start()` that launches `manage.py <args>` (e.g. `rundramatiq --regions`);
    its log is `<name>-<n>.log` (default name: the command)."""
    command = [sys.executable, "manage.py", *args]
    return _processes(command=command, name=name or args[0], log_dir=log_dir, env=env)


def worker_booted(process: subprocess.Popen) -> bool:
    """True once the worker `dramatiq` forked from `process` beats (it has booted)."""
    return any(_process_group(beat.pid) == process.pid for beat in workers_alive())


def _process_group(pid: int) -> int | None:
    # `start()` gives each `dramatiq` its own session: its workers share its group id.
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
