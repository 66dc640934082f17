"""Count the work a piece of code does, in function calls, and stop it past a budget.

Timed assertions are flaky on a shared machine; the number of Python and C function
calls is not. `work_budget` stops the code under test as soon as it exceeds its
budget, so a quadratic regression fails in a second instead of running for minutes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class WorkBudgetExceeded(AssertionError):
    pass


@dataclass
class Work:
    calls: int = 0


@contextmanager
def work_budget(max_calls: int) -> Iterator[Work]:
    work = Work()

    def count(frame: object, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            work.calls += 1
            if work.calls > max_calls:
                raise WorkBudgetExceeded(f"more than {max_calls} calls")

    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        yield work
    finally:
        sys.setprofile(previous)


def calls_of(function: Callable[[], object], max_calls: int = 10**8) -> int:
    """How many calls `function()` makes (it may raise; the count stands)."""
    with work_budget(max_calls) as work:
        try:
            function()
        except WorkBudgetExceeded:
            raise
        except Exception:  # noqa: BLE001, S110 - a refusal is an outcome; its cost counts
            pass
    return work.calls
