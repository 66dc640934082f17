"""Cluster-wide counters and latency histograms kept in Redis, exported at `/metrics`.

Every process (web, workers on any machine, the scheduler) records with
`count(name, **labels)` and `observe(name, seconds, **labels)`. The numbers live
in Redis hashes, not in process memory, so the web process's `/metrics` shows the
whole cluster without a multiprocess directory, and the dashboard reads today's
numbers from the same hashes (one HGETALL per day, no table scans).

Recording is best effort: a Redis outage logs a warning and never breaks the
caller (an e-mail that was sent must not fail because a counter could not move).
Worker processes sum their numbers in memory and write them every
`METRICS_FLUSH_SECONDS` (a thread) and whenever they go idle (`MetricsBuffer`);
every other process writes at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

TOTALS_KEY = "jengu:metrics:total"
HISTOGRAM_KEY = "jengu:metrics:hist"
DAILY_PREFIX = "jengu:metrics:day:"
DAILY_TTL_SECONDS = 45 * 86400
# Upper bounds (seconds) of the latency buckets: SMTP sends and LLM calls take
# between tens of milliseconds and the providers' 30-60 s timeouts.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SEP = "|"
# HELP text for /metrics; a series without one reads "Jengu counter <name>".
DESCRIPTIONS = {
    "emails_composed": "E-mails composed, by who wrote them (provider: an AI provider or "
    "template) and, for the template, why (fallback)",
    "compose_deferred": "Composes re-queued to wait for a busy AI provider (no retry spent)",
    "compose_wait_seconds": "Time a compose waited for busy AI providers before one wrote it",
    "region_events_handed_over": "Events of a down region's queue sent to its fallback's queue",
}

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    """A Redis client with short timeouts, for observability reads and writes.

    Separate from the pipeline's client on purpose: `/health` must answer within
    a second when Redis hangs, so it cannot wait on the library's default timeouts.
    """
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _client


def series_key(name: str, labels: dict[str, object]) -> str:
    """`name|k1=v1|k2=v2` with labels sorted, the field name in the Redis hashes."""
    parts = [name] + [f"{k}={_clean(v)}" for k, v in sorted(labels.items())]
    return SEP.join(parts)


def _clean(value: object) -> str:
    return str(value).replace(SEP, "/").replace("=", ":")


def parse_series_key(key: str) -> tuple[str, dict[str, str]]:
    name, *pairs = key.split(SEP)
    return name, dict(pair.split("=", 1) for pair in pairs)


def daily_key(day: date) -> str:
    return f"{DAILY_PREFIX}{day.isoformat()}"


# One recorded change: add `amount` to field `field_name` of Redis hash `key`.
Increment = tuple[str, str, int | float]


def count(name: str, value: int = 1, **labels: object) -> None:
    """Add `value` to counter `name` (labels: small sets such as queue, inbox_id, outcome)."""
    key = series_key(name, labels)
    day_key = daily_key(timezone.localdate())
    _record(name, [(TOTALS_KEY, key, value), (day_key, key, value)])


def observe(name: str, seconds: float, **labels: object) -> None:
    """Record one duration in histogram `name` (and today's sum/count for averages)."""
    key = series_key(name, labels)
    bucket = next((str(b) for b in BUCKETS if seconds <= b), "+Inf")
    day_key = daily_key(timezone.localdate())
    _record(
        name,
        [
            (HISTOGRAM_KEY, f"{key}{SEP}le={bucket}", 1),
            (HISTOGRAM_KEY, f"{key}{SEP}le=sum", float(seconds)),
            (day_key, f"{key}{SEP}le=sum", float(seconds)),
            (day_key, f"{key}{SEP}le=count", 1),
        ],
    )


def _record(name: str, increments: list[Increment]) -> None:
    buffer = _buffer
    if buffer is not None and buffer.add(increments):
        return
    try:
        _write(increments)
    except redis.RedisError as exc:
        log.warning("metric %s not recorded: %s", name, exc)


def _write(increments: Iterable[Increment]) -> None:
    pipe = redis_client().pipeline(transaction=False)
    day_keys = set()
    for key, field_name, amount in increments:
        if isinstance(amount, float):
            pipe.hincrbyfloat(key, field_name, amount)
        else:
            pipe.hincrby(key, field_name, amount)
        if key.startswith(DAILY_PREFIX):
            day_keys.add(key)
    for day_key in day_keys:
        pipe.expire(day_key, DAILY_TTL_SECONDS)
    pipe.execute()


class MetricsBuffer:
    """Sums a busy process's increments in memory and writes them in one pipeline
    every `interval` seconds (a daemon thread) and on `flush()`.

    A worker records a handful of numbers per event: written one by one they
    cost more Redis round trips than the event itself. `/metrics` and the
    dashboard lag by at most one interval.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._sums: dict[tuple[str, str], int | float] = defaultdict(int)
        self._lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-flusher", daemon=True)

    def add(self, increments: Iterable[Increment]) -> bool:
        """Sum `increments`; False once the buffer is closed (the caller writes them)."""
        with self._lock:
            if self._closed:
                return False
            for key, field_name, amount in increments:
                self._sums[key, field_name] += amount
            return True

    def flush(self) -> None:
        """Write what was summed; on a Redis error it is dropped with a warning, as a
        direct write's would be (counters are best effort)."""
        with self._lock:
            taken, self._sums = self._sums, defaultdict(int)
        if not taken:
            return
        try:
            _write((key, field_name, amount) for (key, field_name), amount in taken.items())
        except redis.RedisError as exc:
            log.warning("%d metric series not recorded: %s", len(taken), exc)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is left; later increments are not taken."""
        self._stop.set()
        self._thread.join()
        with self._lock:
            self._closed = True
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()


_buffer: MetricsBuffer | None = None
_buffer_users = 0
_buffer_lock = threading.Lock()


def metrics_buffer_start(interval: float) -> MetricsBuffer:
    """From now on this process's `count`/`observe` are summed in memory (a worker's
    boot). Nested starts share one buffer."""
    global _buffer, _buffer_users
    with _buffer_lock:
        if _buffer is None:
            _buffer = MetricsBuffer(interval)
            _buffer.start()
        _buffer_users += 1
        return _buffer


def metrics_flush() -> None:
    """Write what this process's buffer holds now; without a buffer there is nothing held."""
    buffer = _buffer
    if buffer is not None:
        buffer.flush()


def metrics_buffer_stop() -> None:
    """Undo one `metrics_buffer_start`; the last one writes what is left and goes back
    to writing at once."""
    global _buffer, _buffer_users
    with _buffer_lock:
        _buffer_users -= 1
        if _buffer_users > 0 or _buffer is None:
            return
        buffer, _buffer = _buffer, None
    buffer.close()


class timed:  # noqa: N801 - used like a function: `with timed("ai_call_seconds", ...)`
    """Context manager observing the block's wall time."""

    def __init__(self, name: str, **labels: object) -> None:
        self.name, self.labels = name, labels

    def __enter__(self) -> timed:
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        observe(self.name, time.monotonic() - self.started, **self.labels)


@dataclass
class DaySeries:
    """One day's counters and duration sums, as read back for the dashboard."""

    counters: dict[str, int] = field(default_factory=dict)
    duration_sums: dict[str, float] = field(default_factory=dict)
    duration_counts: dict[str, int] = field(default_factory=dict)

    def total(self, name: str, **match: str) -> int:
        """Sum of counter `name` over series whose labels include `match`."""
        return sum(value for key, value in self.counters.items() if _matches(key, name, match))

    def by_label(self, name: str, label: str, **match: str) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for key, value in self.counters.items():
            if _matches(key, name, match):
                out[parse_series_key(key)[1].get(label, "")] += value
        return dict(out)

    def mean_seconds(self, name: str, **match: str) -> float | None:
        total = sum(v for k, v in self.duration_sums.items() if _matches(k, name, match))
        n = sum(v for k, v in self.duration_counts.items() if _matches(k, name, match))
        return total / n if n else None


def _matches(key: str, name: str, match: dict[str, str]) -> bool:
    series_name, labels = parse_series_key(key)
    return series_name == name and all(labels.get(k) == str(v) for k, v in match.items())


def day_series(days: Iterable[date]) -> dict[date, DaySeries]:
    """Counters recorded on each of `days` (empty series when Redis has none)."""
    days = list(days)
    pipe = redis_client().pipeline(transaction=False)
    for day in days:
        pipe.hgetall(daily_key(day))
    result = {}
    for day, raw in zip(days, pipe.execute(), strict=True):
        series = DaySeries()
        for raw_key, raw_value in raw.items():
            key, value = raw_key.decode(), raw_value.decode()
            base, _, suffix = key.rpartition(f"{SEP}le=")
            if suffix == "sum":
                series.duration_sums[base] = float(value)
            elif suffix == "count":
                series.duration_counts[base] = int(value)
            else:
                series.counters[key] = int(value)
        result[day] = series
    return result


class RedisCollector(Collector):
    """Exports the Redis counters and histograms at scrape time."""

    def collect(self) -> Iterable:
        client = redis_client()
        yield from _counter_families(client.hgetall(TOTALS_KEY))
        yield from _histogram_families(client.hgetall(HISTOGRAM_KEY))


def _label_names(series: list[dict[str, str]]) -> list[str]:
    return sorted({name for labels in series for name in labels})


def _counter_families(raw: dict[bytes, bytes]) -> Iterable[CounterMetricFamily]:
    grouped: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for raw_key, raw_value in raw.items():
        name, labels = parse_series_key(raw_key.decode())
        grouped[name].append((labels, float(raw_value)))
    for name, rows in sorted(grouped.items()):
        names = _label_names([labels for labels, _ in rows])
        description = DESCRIPTIONS.get(name, f"Jengu counter {name}")
        family = CounterMetricFamily(f"jengu_{name}", description, labels=names)
        for labels, value in rows:
            family.add_metric([labels.get(n, "") for n in names], value)
        yield family


def _histogram_families(raw: dict[bytes, bytes]) -> Iterable[HistogramMetricFamily]:
    per_series: dict[str, dict[str, float]] = defaultdict(dict)
    for raw_key, raw_value in raw.items():
        base, _, bucket = raw_key.decode().rpartition(f"{SEP}le=")
        per_series[base][bucket] = float(raw_value)
    grouped: dict[str, list[tuple[dict[str, str], dict[str, float]]]] = defaultdict(list)
    for base, buckets in per_series.items():
        name, labels = parse_series_key(base)
        grouped[name].append((labels, buckets))
    for name, rows in sorted(grouped.items()):
        names = _label_names([labels for labels, _ in rows])
        description = DESCRIPTIONS.get(name, f"Jengu histogram {name}")
        family = HistogramMetricFamily(f"jengu_{name}", description, labels=names)
        for labels, buckets in rows:
            cumulative, running = [], 0.0
            for bound in [*map(str, BUCKETS), "+Inf"]:
                running += buckets.get(bound, 0.0)
                cumulative.append((bound, running))
            family.add_metric(
                [labels.get(n, "") for n in names], cumulative, buckets.get("sum", 0.0)
            )
        yield family


class RequestMetricsMiddleware:
    """Counts HTTP requests by method, URL name and status class, cluster-wide."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        status = f"{response.status_code // 100}xx"
        count("http_requests", method=request.method, view=view, status=status)
        observe("http_request_seconds", time.monotonic() - started, view=view)
        return response
