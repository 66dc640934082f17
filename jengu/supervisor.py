"""Keeping a set of processes running: one that exits is started again, with backoff.

Used by `make run` (`jengu.devrun`). A process that dies (a crash, Redis gone
at boot, a bug) is logged with its exit status and restarted after 1 s, then
2, 4 … up to 30 s while it keeps dying quickly; one that ran for a minute
starts again from 1 s. The others keep running meanwhile.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# A process that ran this long before exiting was healthy: its backoff starts over.
STABLE_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0  # exits in a row, each within STABLE_SECONDS of its start
    restart_at: float | None = None


class Supervisor:
    """Start `commands` (name -> argv) and keep them running.

    `check()` is one round (tests call it with their own clock); `run()` repeats
    it until interrupted.
    """

    def __init__(
        self,
        commands: Mapping[str, list[str]],
        *,
        env: Mapping[str, str],
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = print,
    ) -> None:
        self.children = [Child(name, list(command)) for name, command in commands.items()]
        self.env = dict(env)
        self.clock = clock
        self.log = log

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)

    def check(self) -> None:
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._start(child)
            elif child.process is not None and child.process.poll() is not None:
                self._schedule_restart(child, now)

    def run(self, poll_seconds: float = 0.5) -> None:
        while True:
            self.check()
            time.sleep(poll_seconds)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, env=self.env)
        child.started_at = self.clock()
        child.restart_at = None

    def _schedule_restart(self, child: Child, now: float) -> None:
        ran_for = now - child.started_at
        child.quick_exits = 1 if ran_for >= STABLE_SECONDS else child.quick_exits + 1
        delay = min(FIRST_BACKOFF_SECONDS * 2 ** (child.quick_exits - 1), MAX_BACKOFF_SECONDS)
        child.restart_at = now + delay
        self.log(
            f"[devrun] {child.name} exited with {child.process.returncode} after {ran_for:.0f} s;"
            f" restarting in {delay:g} s (restart {child.quick_exits} in a row)"
        )

    def stop_all(self) -> None:
        """SIGINT to every running child, then SIGKILL to those still there after 15 s."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
