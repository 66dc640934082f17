"""Named Redis locks on redis-py's `Lock`: owner token, TTL, extend, safe release."""

from __future__ import annotations

from types import TracebackType

from redis.exceptions import LockError
from redis.lock import Lock

from .client import get_redis, key


class LockNotAcquired(RuntimeError):
    """The context manager could not take the lock within its blocking timeout."""


class NamedLock:
    """A lock shared by every process, released automatically after `ttl` seconds.

    The TTL is the safety net for a crashed holder; long work calls `extend()`.
    Releasing a lock this instance does not own (someone else's, or ours after it
    expired) is refused and returns False instead of deleting another owner's lock.

        lock = NamedLock("send:inbox:4", ttl=60)
        if lock.try_acquire():
            try: ...
            finally: lock.release()

        with NamedLock("import", ttl=30, blocking_timeout=5): ...
    """

    def __init__(self, name: str, ttl: float = 30.0, *, blocking_timeout: float = 10.0) -> None:
        self.name = name
        self.ttl = ttl
        self.blocking_timeout = blocking_timeout
        self._lock = Lock(get_redis(), key("lock", name), timeout=ttl, thread_local=False)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        return bool(self._lock.acquire(blocking=False))

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds (default: `blocking_timeout`) for the lock."""
        wait = self.blocking_timeout if timeout is None else timeout
        return bool(self._lock.acquire(blocking=True, blocking_timeout=wait))

    def extend(self, seconds: float | None = None) -> bool:
        """Reset the TTL to `seconds` (default: `ttl`) if we still own the lock."""
        try:
            return bool(self._lock.extend(seconds or self.ttl, replace_ttl=True))
        except LockError:
            return False

    def release(self) -> bool:
        """Release if we own it; False when it expired or belongs to someone else."""
        try:
            self._lock.release()
        except LockError:
            return False
        return True

    def owned(self) -> bool:
        return bool(self._lock.owned())

    def locked(self) -> bool:
        """Whether anyone holds the lock."""
        return bool(self._lock.locked())

    def __enter__(self) -> NamedLock:
        if not self.acquire():
            raise LockNotAcquired(f"lock {self.name!r} busy for {self.blocking_timeout}s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class ProspectLock(NamedLock):
    """The lock around work on one prospect (enrichment, sending to it)."""

    def __init__(
        self, prospect_id: int, ttl: float = 60.0, *, blocking_timeout: float = 10.0
    ) -> None:
        super().__init__(f"prospect:{prospect_id}", ttl, blocking_timeout=blocking_timeout)
