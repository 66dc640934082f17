"""`GET /health`: is the system able to do its work right now?

Each check is a small function the dashboard's System page and `/metrics` reuse.
The whole report costs one `SELECT 1`, one small `COUNT`, a few Redis round trips
and the broker's queue counts (jengu.bus.brokers), so load balancers and the
dashboard can poll it every second.

Status: `unhealthy` (HTTP 503) when PostgreSQL, Redis or the broker is unreachable
or a queue's oldest message is older than the critical age; `degraded` (HTTP 200)
when a breaker is open, no worker is alive, a queue is deep or slow, dead letters
pile up, or a read replica is skipped (down or lagging).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from jengu.bus.brokers import broker_kind, queue_depths
from jengu.db_router import monitor as replica_monitor
from jengu.failover import DownQueue, regions_down
from jengu.heartbeats import WorkerBeat, heartbeats_fresh
from jengu.metrics import redis_client
from jengu.redis_helpers import all_breakers
from jengu.region_config import queue_region
from jengu.regions import all_queues, regional_queues

log = logging.getLogger(__name__)

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}


@dataclass
class QueueStat:
    name: str
    depth: int
    delayed: int
    dead: int
    oldest_age_seconds: float | None
    status: str = HEALTHY
    region: str = ""  # the region of a regional queue (`send-eu-west`), else ""


@dataclass
class RegionStat:
    name: str
    home: str
    workers: int  # worker processes beating for one of its queues
    last_beat_seconds_ago: float | None
    queues: list[QueueStat]
    down: list[DownQueue]  # its queues without workers, and their fallback

    @property
    def status(self) -> str:
        return DEGRADED if self.down or not self.workers else HEALTHY


@dataclass
class BreakerState:
    name: str
    state: str


def worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__, default=HEALTHY)


def queue_names() -> list[str]:
    """The pipeline's queues (each region's too) plus any queue an actor declared here."""
    import dramatiq

    declared = dramatiq.get_broker().get_declared_queues()
    names = set(all_queues()) | {q for q in declared if not q.endswith((".DQ", ".XQ"))}
    return sorted(names)


def queue_stats() -> list[QueueStat]:
    """Ready, delayed, dead and oldest-message age of every queue, in either broker."""
    return [
        QueueStat(
            q.name,
            q.ready,
            q.delayed,
            q.dead,
            q.oldest_age_seconds,
            _queue_status(q.ready, q.oldest_age_seconds),
            queue_region(q.name) or "",
        )
        for q in queue_depths(queue_names())
    ]


def region_stats(queues: list[QueueStat], workers: list[WorkerBeat]) -> list[RegionStat]:
    """Each region's workers and regional queues, and where its down queues' work goes."""
    down = {entry.queue: entry for entry in regions_down()}
    stats = []
    for region in settings.JENGU_REGIONS:
        beats = [w for w in workers if region.name in w.regions]
        stats.append(
            RegionStat(
                name=region.name,
                home=region.home,
                workers=len(beats),
                last_beat_seconds_ago=min((w.seen_seconds_ago for w in beats), default=None),
                queues=[q for q in queues if q.region == region.name],
                down=[down[q] for q in regional_queues([region.name]) if q in down],
            )
        )
    return stats


def _queue_status(depth: int, age: float | None) -> str:
    if age is not None and age >= settings.HEALTH_QUEUE_AGE_CRITICAL:
        return UNHEALTHY
    if depth >= settings.HEALTH_QUEUE_DEPTH_WARN or (
        age is not None and age >= settings.HEALTH_QUEUE_AGE_WARN
    ):
        return DEGRADED
    return HEALTHY


def workers_alive() -> list[WorkerBeat]:
    """Worker processes whose heartbeat (jengu.workers.WorkerHeartbeat) is fresh."""
    return heartbeats_fresh(max_age_seconds=settings.HEALTH_WORKER_STALE_SECONDS)


def breaker_states() -> list[BreakerState]:
    return [BreakerState(b.name, b.state) for b in all_breakers()]


def dead_letters_pending(*, limit: int | None = None) -> int:
    """Dead letters awaiting review; with `limit`, counting stops there (cheap)."""
    # Imported when called: the workers' middleware imports this module while Django
    # is still loading apps, before models may load.
    from jengu.events.models import DeadLetter

    pending = DeadLetter.objects.filter(status=DeadLetter.Status.PENDING)
    if limit is not None:
        pending = pending.values("pk")[:limit]
    return pending.count()


def providers(breakers: list[BreakerState]) -> dict[str, dict]:
    """Each external provider: configured or skipped, and its worst breaker state."""
    configured = {
        "xai": len(settings.XAI_API_KEYS) > 0,
        "anthropic": bool(settings.ANTHROPIC_API_KEY),
        "millionverifier": bool(settings.MILLIONVERIFIER_API_KEY),
        "alert_webhook": bool(settings.ALERT_WEBHOOK_URL),
    }
    out = {}
    for name, is_configured in configured.items():
        states = {b.state for b in breakers if b.name.startswith(name)} - {"closed"}
        state = "open" if "open" in states else next(iter(states), "closed")
        status = DEGRADED if is_configured and state != "closed" else HEALTHY
        out[name] = {"configured": is_configured, "breaker": state, "status": status}
    return out


def _check(name: str, fn, failure_status: str = UNHEALTHY) -> tuple[dict, object]:
    """Run one check; an exception becomes that component's failure, never a 500."""
    started = time.monotonic()
    try:
        value = fn()
    except (DatabaseError, redis.RedisError, OSError) as exc:
        log.warning("health check %s failed: %s", name, exc)
        return {"status": failure_status, "error": str(exc)[:200]}, None
    return {"status": HEALTHY, "ms": round((time.monotonic() - started) * 1000, 2)}, value


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def health_report() -> dict:
    """The full report: overall status plus one entry per component."""
    components: dict[str, dict] = {}
    components["database"], _ = _check("database", _database)
    components["redis"], _ = _check("redis", lambda: redis_client().ping())
    redis_up = components["redis"]["status"] == HEALTHY
    db_up = components["database"]["status"] == HEALTHY
    if redis_up or settings.BROKER_URL != settings.REDIS_URL:
        components["queues"] = _queues_component()
    if settings.DATABASE_REPLICAS:
        components["replicas"] = _replicas_component()
    if redis_up and settings.JENGU_REGIONS:
        components["regions"] = _regions_component()
    if redis_up:
        components["workers"], workers = _check("workers", workers_alive)
        if workers is not None:
            components["workers"]["alive"] = len(workers)
            components["workers"]["status"] = DEGRADED if not workers else HEALTHY
        components["breakers"], breakers = _check("breakers", breaker_states, DEGRADED)
        breakers = breakers or []
        opened = [b.name for b in breakers if b.state != "closed"]
        components["breakers"].update(
            {"open": opened, "status": DEGRADED if opened else components["breakers"]["status"]}
        )
        components["providers"] = {"status": HEALTHY, "providers": providers(breakers)}
        components["providers"]["status"] = worst(
            *(p["status"] for p in components["providers"]["providers"].values())
        )
    if db_up:
        components["dead_letters"], pending = _check(
            "dead_letters",
            lambda: dead_letters_pending(limit=settings.HEALTH_DEAD_LETTERS_WARN + 1),
            DEGRADED,
        )
        if pending is not None:
            components["dead_letters"]["pending"] = pending
            if pending > settings.HEALTH_DEAD_LETTERS_WARN:
                components["dead_letters"]["status"] = DEGRADED
    status = worst(*(c["status"] for c in components.values()))
    return {"status": status, "components": components}


def _queues_component() -> dict:
    component, queues = _check("queues", queue_stats)
    component["broker"] = broker_kind()
    if queues is not None:
        component["queues"] = {q.name: _queue_json(q) for q in queues}
        component["status"] = worst(*(q.status for q in queues))
    return component


def _regions_component() -> dict:
    """Regions: one whose queues are down (their work on a fallback) degrades."""
    component, down = _check("regions", regions_down, DEGRADED)
    if down is not None:
        component["down"] = {
            entry.queue: {
                "fallback": entry.fallback,
                "down_seconds": round(time.time() - entry.since),
            }
            for entry in down
        }
        component["status"] = DEGRADED if down else HEALTHY
    return component


def _replicas_component() -> dict:
    """Read replicas: one skipped (down or lagging) degrades; its reads go to the primary."""
    states = replica_monitor.states()
    return {
        "status": HEALTHY if all(s.healthy for s in states) else DEGRADED,
        "replicas": {
            s.alias: {
                "healthy": s.healthy,
                "lag_seconds": None if s.lag_seconds is None else round(s.lag_seconds, 2),
                "error": s.error,
            }
            for s in states
        },
    }


def _queue_json(queue: QueueStat) -> dict:
    data = asdict(queue)
    data.pop("name")
    if data["oldest_age_seconds"] is not None:
        data["oldest_age_seconds"] = round(data["oldest_age_seconds"], 1)
    return data
