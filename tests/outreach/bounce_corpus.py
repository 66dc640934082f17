"""The public bounce corpus (sisimai's set-of-emails) and how our rules score on it.

The corpus lives outside the repository, beside the main checkout (`../shared/
corpus/sisimai`), or wherever JENGU_CORPUS_DIR points. Tests that need it skip
when it is absent. `expected.tsv` holds sisimai's verdict per failed recipient;
we compare our verdict on each message with the row of its first recipient.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from outreach.replies.classify import classify_rules
from outreach.replies.errors import MalformedEmailError
from outreach.replies.parsing import parse_email

REPO = Path(__file__).resolve().parents[2]
# Rows that are not bounces, and bounces whose reason sisimai could not tell.
NOT_BOUNCES = {
    "feedback": "complaint report",
    "vacation": "auto-reply",
    "delivered": "delivery report",
}
UNDECIDED = frozenset({"onhold", "undefined"})


def _main_checkout(repo: Path) -> Path:
    """The main checkout of a git worktree (whose `.git` is a file naming its gitdir)."""
    dot_git = repo / ".git"
    if dot_git.is_file():
        gitdir = Path(dot_git.read_text().partition("gitdir:")[2].strip())
        if gitdir.parent.name == "worktrees":
            return gitdir.parent.parent.parent
    return repo


def corpus_dir() -> Path | None:
    candidates = [
        os.environ.get("JENGU_CORPUS_DIR", ""),
        REPO.parent / "shared" / "corpus",
        _main_checkout(REPO).parent / "shared" / "corpus",
    ]
    for candidate in candidates:
        path = Path(candidate) / "sisimai" if candidate else None
        if path and (path / "expected.tsv").is_file():
            return path
    return None


@dataclass(frozen=True)
class Case:
    path: Path
    reason: str
    hard: bool
    feedback_type: str

    @property
    def expected(self) -> str:
        if self.reason in NOT_BOUNCES:
            return NOT_BOUNCES[self.reason]
        if self.reason in UNDECIDED:
            return "bounce (reason unknown)"
        return "hard bounce" if self.hard else "soft bounce"

    @property
    def counts_as_bounce(self) -> bool:
        return self.reason not in NOT_BOUNCES and self.reason not in UNDECIDED


def corpus_cases(root: Path) -> list[Case]:
    """One case per corpus file that sisimai's tests list (its first recipient's row)."""
    first_rows: dict[str, list[str]] = {}
    with (root / "expected.tsv").open(newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row and not row[0].startswith("#"):
                first_rows.setdefault(row[0], row)
    return [
        Case(path=root / "bsd" / name, reason=row[4], hard=row[5] == "1", feedback_type=row[6])
        for name, row in sorted(first_rows.items())
        if (root / "bsd" / name).is_file()
    ]


@dataclass
class Score:
    bounces: int = 0
    recognised: int = 0
    agree: int = 0
    crashes: list[str] = field(default_factory=list)
    reports_as_interest: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    confusion: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    @property
    def recognised_share(self) -> float:
        return self.recognised / self.bounces if self.bounces else 0.0

    @property
    def agreement(self) -> float:
        return self.agree / self.recognised if self.recognised else 0.0


INTEREST = frozenset({"interested", "meeting"})


def corpus_score(cases: list[Case]) -> Score:
    score = Score()
    for case in cases:
        try:
            verdict = classify_rules(parse_email(case.path.read_bytes()))
        except MalformedEmailError as exc:
            score.crashes.append(f"{case.path.name}: {exc}")
            score.confusion[(case.expected, "unreadable")] += 1
            continue
        label = str(verdict.label)
        score.confusion[(case.expected, label)] += 1
        if case.reason in NOT_BOUNCES and label in INTEREST:
            score.reports_as_interest.append(case.path.name)
        if not case.counts_as_bounce:
            continue
        score.bounces += 1
        if not label.startswith("bounce_"):
            score.missed.append(f"{case.path.name} ({case.reason}) -> {label}")
            continue
        score.recognised += 1
        score.reasons[(case.reason, verdict.details.get("reason", ""))] += 1
        if (label == "bounce_hard") == case.hard:
            score.agree += 1
        else:
            score.disagreements.append(
                f"{case.path.name} ({case.reason}, hard={case.hard}) -> "
                f"{verdict.details.get('reason')} {verdict.details.get('status')} "
                f"{verdict.details.get('diagnostic', '')[:120]!r}"
            )
    return score


def confusion_rows(score: Score) -> tuple[list[str], list[list[str]]]:
    """The confusion table: sisimai's verdict (rows) against our label (columns)."""
    expected = sorted({e for e, _ in score.confusion})
    labels = sorted({label for _, label in score.confusion})
    rows = [[e, *[str(score.confusion.get((e, label), 0)) for label in labels]] for e in expected]
    return ["sisimai \\ ours", *labels], rows
