"""Circuit breakers shared by every process: closed -> open -> half-open -> closed.

State lives in one Redis hash per breaker and every transition is one Lua call,
so two workers can never both decide to trip, probe or close. Every transition and
reset is announced with the `breaker_changed` signal: the event log (a layer above,
which this module cannot import) records it as `breaker.opened`,
`breaker.half_opened` or `breaker.closed`, so an outage shows up next to the traces
it affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.dispatch import Signal

from jengu.failures import TRANSIENT, CircuitOpenError, classify

from .client import get_redis, key

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
_REGISTRY = key("breakers")
T = TypeVar("T")

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# ARGV: half_open_max_calls, reset_ms. Returns {allowed, transition}.
# Probe slots are handed out for one reset period; if no probe reports back by
# then (its worker died), a new set of slots opens instead of sticking forever.
_ALLOW = (
    _NOW
    + """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'closed' then return {1, ''} end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local transition = ''
if state == 'open' then
  if now < deadline then return {0, ''} end
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probes', 0, 'until', now + ARGV[2],
             'changed_at', now)
  transition = 'half_open'
elseif now >= deadline then
  redis.call('HSET', KEYS[1], 'probes', 0, 'until', now + ARGV[2])
end
if tonumber(redis.call('HGET', KEYS[1], 'probes')) >= tonumber(ARGV[1]) then
  return {0, transition}
end
redis.call('HINCRBY', KEYS[1], 'probes', 1)
return {1, transition}
"""
)

# ARGV: name, failure_threshold, reset_ms. Returns the transition or ''.
_FAILURE = (
    _NOW
    + """
redis.call('SADD', KEYS[2], ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then return '' end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if state == 'half_open' or failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + ARGV[3], 'changed_at', now)
  return 'open'
end
redis.call('HSET', KEYS[1], 'state', 'closed')
return ''
"""
)

# A success closes a half-open breaker and clears a closed one's failure streak.
# A late success while open (a call that started before the trip) changes nothing.
_SUCCESS = (
    _NOW
    + """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'half_open' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'probes', 0, 'changed_at', now)
  return 'closed'
end
if state == 'closed' and redis.call('HGET', KEYS[1], 'failures') ~= '0' then
  redis.call('HSET', KEYS[1], 'failures', 0)
end
return ''
"""
)

# ARGV: name, open_ms. Opens until now + open_ms, never shortening a longer opening.
_OPEN_FOR = (
    _NOW
    + """
redis.call('SADD', KEYS[2], ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local deadline = now + tonumber(ARGV[2])
if state == 'open' then
  deadline = math.max(deadline, tonumber(redis.call('HGET', KEYS[1], 'until') or '0'))
  redis.call('HSET', KEYS[1], 'until', deadline)
  return ''
end
redis.call('HSET', KEYS[1], 'state', 'open', 'until', deadline, 'changed_at', now)
return 'open'
"""
)

# Returns {state, failures, until, changed_at, now} for every breaker key given.
_READ = (
    _NOW
    + """
local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('HMGET', k, 'state', 'failures', 'until', 'changed_at')
  out[i] = {v[1] or 'closed', v[2] or '0', v[3] or '0', v[4] or '0', tostring(now)}
end
return out
"""
)


@dataclass(frozen=True)
class BreakerState:
    """A snapshot for health checks, the admin and the dashboard."""

    name: str
    state: str
    failures: int
    open_until: datetime | None
    changed_at: datetime | None
    # Seconds until an open breaker lets a probe through, by Redis's clock (0 unless open).
    retry_in: float = 0.0


def _key(name: str) -> str:
    return key("breaker", name)


def _ms_to_datetime(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _snapshot(name: str, row: list[str]) -> BreakerState:
    state, failures, until, changed_at, now = (row[0], *map(int, row[1:]))
    # An open breaker whose rest is over lets the next caller probe: report that.
    if state == OPEN and now >= until:
        state = HALF_OPEN
    return BreakerState(
        name=name,
        state=state,
        failures=failures,
        open_until=_ms_to_datetime(until) if state == OPEN else None,
        changed_at=_ms_to_datetime(changed_at),
        retry_in=(until - now) / 1000 if state == OPEN else 0.0,
    )


class CircuitBreaker:
    """Stop calling a failing provider for a while, then let a few probes test it.

    Closed: every call goes through; `failure_threshold` consecutive failures open it.
    Open: `allow()` is False for `reset_timeout` seconds (or `open_for(seconds)`).
    Half-open: `half_open_max_calls` probes are allowed; one success closes the
    breaker, one failure opens it again.

        breaker = CircuitBreaker("millionverifier")
        if not breaker.allow():
            raise CircuitOpenError(breaker.name)
        try: response = call()
        except httpx.TransportError: breaker.record_failure(); raise
        breaker.record_success()

    or simply `breaker.call(fn, *args)`.
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int = 3,
        reset_timeout: float = 60,
        half_open_max_calls: int = 1,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self._key = _key(name)
        client = get_redis()
        self._allow = client.register_script(_ALLOW)
        self._failure = client.register_script(_FAILURE)
        self._success = client.register_script(_SUCCESS)
        self._open_for = client.register_script(_OPEN_FOR)

    @property
    def _reset_ms(self) -> int:
        return int(self.reset_timeout * 1000)

    def allow(self) -> bool:
        """May a call go out now? In half-open this reserves one probe slot."""
        allowed, transition = self._allow(
            keys=[self._key], args=[self.half_open_max_calls, self._reset_ms]
        )
        self._transitioned(transition)
        return bool(allowed)

    def record_success(self) -> bool:
        """A call went well; True when it closed the breaker (a half-open probe's success),
        so the caller can wake what waited for the provider to come back."""
        transition = self._success(keys=[self._key])
        self._transitioned(transition)
        return transition == CLOSED

    def record_failure(self) -> None:
        self._transitioned(
            self._failure(
                keys=[self._key, _REGISTRY],
                args=[self.name, self.failure_threshold, self._reset_ms],
            )
        )

    def open_for(self, seconds: float) -> None:
        """Open now for at least `seconds`, e.g. a provider's 429 `Retry-After`."""
        self._transitioned(
            self._open_for(keys=[self._key, _REGISTRY], args=[self.name, int(seconds * 1000)])
        )

    @property
    def state(self) -> str:
        """`closed`, `open` or `half_open` as the next caller would find it."""
        return self.snapshot().state

    def snapshot(self) -> BreakerState:
        return _read([self.name])[0]

    def reset(self) -> None:
        """Close the breaker and forget its failures (an operator's decision)."""
        reset_breaker(self.name)

    def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        is_failure: Callable[[BaseException], bool] | None = None,
        **kwargs: Any,
    ) -> T:
        """Run `fn` under the breaker; raise `CircuitOpenError` when it is open.

        Only exceptions for which `is_failure(exc)` is true count against the
        provider (default: errors the bus classifies as transient — a 4xx is
        our request's fault, not the provider's).
        """
        if not self.allow():
            raise CircuitOpenError(self.name, self.reset_timeout)
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if (is_failure or _is_transient)(exc):
                self.record_failure()
            else:
                self.record_success()
            raise
        self.record_success()
        return result

    def _transitioned(self, transition: str) -> None:
        if transition:
            _record_transition(self.name, transition)


def _is_transient(exc: BaseException) -> bool:
    return classify(exc) == TRANSIENT


# Sent with `name`, `state` (closed, open, half_open) and `reset` (an operator's reset).
breaker_changed = Signal()


def _record_transition(name: str, new_state: str) -> None:
    log = logger.warning if new_state == OPEN else logger.info
    log("circuit breaker %s is now %s", name, new_state)
    for _, outcome in breaker_changed.send_robust(CircuitBreaker, name=name, state=new_state):
        if isinstance(outcome, Exception):
            # The breaker must keep protecting the caller even if the log is down.
            logger.error("could not record breaker %s transition", name, exc_info=outcome)


def _read(names: list[str]) -> list[BreakerState]:
    if not names:
        return []
    rows = get_redis().register_script(_READ)(keys=[_key(name) for name in names])
    return [_snapshot(name, row) for name, row in zip(names, rows, strict=True)]


def all_breakers() -> list[BreakerState]:
    """Every breaker that has ever failed, sorted by name."""
    return _read(sorted(get_redis().smembers(_REGISTRY)))


def reset_breaker(name: str) -> None:
    """Close breaker `name` and clear its counters."""
    get_redis().delete(_key(name))
    logger.info("circuit breaker %s reset", name)
    breaker_changed.send(CircuitBreaker, name=name, state=CLOSED, reset=True)
