"""Choosing a prospect's address once its candidates have been validated.

Candidates are validated in rank order (personal > role > generic > guesses). The
best-ranked valid address wins as soon as it is known; otherwise, once every
candidate has a verdict, the best remaining status wins (catch-all, then risky,
then unknown, rank breaking ties); when every candidate is invalid, so is the
prospect.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.models import EmailStatus, Stage

FALLBACK_ORDER = (EmailStatus.CATCH_ALL, EmailStatus.RISKY, EmailStatus.UNKNOWN)
STAGE_FOR_STATUS = {
    EmailStatus.VALID: Stage.READY,
    EmailStatus.CATCH_ALL: Stage.READY,
    EmailStatus.RISKY: Stage.ENRICHED,
    EmailStatus.UNKNOWN: Stage.ENRICHED,
    EmailStatus.INVALID: Stage.INVALID,
}


@dataclass(frozen=True)
class Choice:
    decided: bool
    email: str = ""
    status: str = EmailStatus.UNKNOWN
    reason: str = ""

    @property
    def stage(self) -> str:
        return STAGE_FOR_STATUS[self.status]


def choose_address(*, ranked: list[str], verdicts: dict[str, dict]) -> Choice:
    """`ranked`: addresses sent to validation, best first; `verdicts`: email -> result."""
    if not ranked:
        return Choice(decided=True, reason="no address found")
    for email in ranked:
        verdict = verdicts.get(email)
        if verdict is None:
            return Choice(decided=False, reason=f"waiting for the verdict on {email}")
        if verdict["status"] == EmailStatus.VALID:
            return Choice(True, email, EmailStatus.VALID, verdict.get("reason", ""))
    for status in FALLBACK_ORDER:
        for email in ranked:
            if verdicts[email]["status"] == status:
                return Choice(True, email, status, verdicts[email].get("reason", ""))
    return Choice(True, "", EmailStatus.INVALID, f"all {len(ranked)} candidates invalid")
