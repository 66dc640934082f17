"""Read replicas: read-only web requests read a healthy replica, everything else the primary.

`DATABASE_REPLICA_URLS` adds the aliases `replica_1`, `replica_2`, … next to
`default` (the primary). `ReplicaReadsMiddleware` opens a *read scope* for a GET,
HEAD or OPTIONS request; inside a scope `ReplicaRouter` sends ORM reads to one
healthy replica, chosen once per scope so a page never mixes two replicas' views.
Outside a scope — workers and their actors, the scheduler, management commands,
POSTs — every read goes to the primary: the pipeline's locks and fences must see
the latest rows. `replica_reads()` opens a scope by hand (e.g. for a report).

Read-your-writes: the first ORM write in a scope pins the rest of it to the
primary, and the response then sets a cookie that keeps this browser on the
primary for `DATABASE_REPLICA_PIN_SECONDS` (longer than the lag a replica may
have); so does any POST, PUT, PATCH or DELETE. Credentials (users, sessions, API
keys) are always read from the primary, so a revoked key or a changed password
takes effect at once, and writing them (a session, a key's last use) pins nothing.

A replica is skipped while it is down or lags more than
`DATABASE_REPLICA_MAX_LAG_SECONDS`; `ReplicaMonitor` measures that at most every
`DATABASE_REPLICA_CHECK_SECONDS` per process. With no replica healthy, reads go to
the primary.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

PRIMARY = "default"
PIN_COOKIE = "jengu_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read from the primary even inside a read scope: who may log in and with which key.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "apikeys"})

# Caught up when everything received has been replayed (an idle primary sends nothing,
# so the last replayed commit grows old while the replica is perfectly current);
# otherwise the lag is the age of the last commit it replayed.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
       pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
"""


@dataclass
class ReadScope:
    """One request's (or block's) read routing: its replica, and whether it wrote.

    `primary_only` scopes only watch for writes (a request that must read the primary).
    """

    primary_only: bool = False
    replica: str | None = None
    wrote: bool = False


_scope: ContextVar[ReadScope | None] = ContextVar("jengu_read_scope", default=None)


@contextmanager
def replica_reads(*, primary_only: bool = False) -> Iterator[ReadScope]:
    """Let the ORM reads of this block go to a healthy replica (until it writes)."""
    scope = ReadScope(primary_only=primary_only)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@dataclass
class ReplicaState:
    alias: str
    healthy: bool
    lag_seconds: float | None
    checked_at: float
    error: str = ""


class ReplicaMonitor:
    """Each replica's health in this process, measured at most every check interval.

    One thread measures a stale replica while the others keep using the last
    answer, so a slow or dead replica delays one request per interval at most.
    """

    def __init__(self) -> None:
        self._states: dict[str, ReplicaState] = {}
        self._checking: set[str] = set()
        self._lock = threading.Lock()
        self._turns = itertools.count()

    def choose(self) -> str | None:
        """A healthy replica whose connection works (round robin), or None."""
        healthy = [alias for alias in settings.DATABASE_REPLICAS if self._healthy(alias)]
        if not healthy:
            return None
        start = next(self._turns)
        for offset in range(len(healthy)):
            alias = healthy[(start + offset) % len(healthy)]
            if self._connect(alias):
                return alias
        return None

    def states(self) -> list[ReplicaState]:
        """Every replica's latest state (measuring those never measured or stale)."""
        for alias in settings.DATABASE_REPLICAS:
            self._healthy(alias)
        with self._lock:
            return [self._states[a] for a in settings.DATABASE_REPLICAS if a in self._states]

    def forget(self) -> None:
        """Measure every replica afresh on next use (tests, settings changes)."""
        with self._lock:
            self._states.clear()

    def _healthy(self, alias: str) -> bool:
        interval = settings.DATABASE_REPLICA_CHECK_SECONDS
        with self._lock:
            state = self._states.get(alias)
            fresh = state and time.monotonic() - state.checked_at < interval
            if fresh or alias in self._checking:
                return bool(state and state.healthy)
            self._checking.add(alias)
        try:
            state = self._measure(alias)
        finally:
            with self._lock:
                self._checking.discard(alias)
        with self._lock:
            self._states[alias] = state
        return state.healthy

    def _measure(self, alias: str) -> ReplicaState:
        now = time.monotonic()
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(LAG_SQL)
                in_recovery, receiving, caught_up, replay_age = cursor.fetchone()
        except DatabaseError as exc:
            connections[alias].close()
            log.warning("read replica %s skipped: %s", alias, exc)
            return ReplicaState(alias, False, None, now, str(exc)[:200])
        lag = replica_lag(in_recovery, receiving, caught_up, replay_age)
        healthy = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        if not healthy:
            log.warning("read replica %s skipped: %s s behind the primary", alias, lag)
        return ReplicaState(alias, healthy, lag, now)

    def _connect(self, alias: str) -> bool:
        """Open (or health-check) this thread's connection; a failure marks it down."""
        connection = connections[alias]
        try:
            # Check a reused connection now, once per scope (Django checks it at most
            # once per request anyway; marking it undone moves that check here).
            connection.health_check_done = False
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except DatabaseError as exc:
            connection.close()
            log.warning("read replica %s skipped: %s", alias, exc)
            with self._lock:
                self._states[alias] = ReplicaState(alias, False, None, time.monotonic(), str(exc))
            return False
        return True


def replica_lag(
    in_recovery: bool, receiving: bool, caught_up: bool, replay_age: float | None
) -> float | None:
    """Seconds a server's data is behind its primary; None when unknown.

    A server that is not in recovery is a primary (e.g. promoted): it is current.
    A replica that streams and has replayed all it received is current however long
    ago the primary last committed. Otherwise (replay delayed or paused, or the
    stream is down) the age of the last replayed commit bounds what it misses.
    """
    if not in_recovery or (receiving and caught_up):
        return 0.0
    return replay_age


monitor = ReplicaMonitor()


class ReplicaRouter:
    """Django database router: see the module docstring."""

    def db_for_read(self, model, **hints) -> str:
        scope = _scope.get()
        if scope is None or scope.primary_only or scope.wrote:
            return PRIMARY
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            # A transaction on the primary reads what it wrote.
            return PRIMARY
        if scope.replica is None:
            scope.replica = monitor.choose() or PRIMARY
        return scope.replica

    def db_for_write(self, model, **hints) -> str:
        scope = _scope.get()
        # Credentials are read from the primary anyway: writing them (a session, a
        # key's last use) need not move the rest of the request off the replica.
        if scope is not None and model._meta.app_label not in PRIMARY_ONLY_APPS:
            scope.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Replicas hold the primary's rows: any two objects may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Opens a read scope for safe requests; pins a browser that wrote to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        with replica_reads(primary_only=not safe or PIN_COOKIE in request.COOKIES) as scope:
            response = self.get_response(request)
        if scope.wrote or not safe:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
