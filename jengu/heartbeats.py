"""Worker heartbeats in Redis: written by `jengu.workers.WorkerHeartbeat`, read here.

One hash, `jengu:workers`: field `host:pid`, value the JSON beat (time, host, pid,
the queues the worker consumes and the regions they belong to). `/health`, the
System page, `/metrics` and the regions' routing read it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from jengu.metrics import redis_client

WORKERS_KEY = "jengu:workers"


@dataclass
class WorkerBeat:
    worker_id: str
    host: str
    pid: int
    queues: list[str]
    seen_seconds_ago: float
    regions: list[str] = field(default_factory=list)


def heartbeats_fresh(*, max_age_seconds: float) -> list[WorkerBeat]:
    """Workers whose last beat is at most `max_age_seconds` old, by worker id."""
    now = time.time()
    beats = []
    for worker_id, raw in redis_client().hgetall(WORKERS_KEY).items():
        beat = json.loads(raw)
        ago = now - beat["ts"]
        if ago <= max_age_seconds:
            beats.append(
                WorkerBeat(
                    worker_id.decode(),
                    beat["host"],
                    beat["pid"],
                    beat["queues"],
                    ago,
                    beat.get("regions", []),
                )
            )
    return sorted(beats, key=lambda b: b.worker_id)
