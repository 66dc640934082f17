"""What an API key may do. A request needs `read` to read; each write needs its scope.

| scope             | allows                                                          |
|-------------------|-----------------------------------------------------------------|
| `read`            | every GET                                                       |
| `prospects:write` | create, change, delete, bulk-load and enrich prospects          |
| `campaigns:write` | create and change campaigns (not activate them) and inboxes     |
| `send`            | what makes e-mail go out: activate a campaign, enroll prospects, |
|                   | requeue or discard dead letters                                 |

Keys made before scopes existed kept their powers: read-only keys have `read`, the
others every scope (see the migration that added the field).
"""

from __future__ import annotations

READ = "read"
PROSPECTS_WRITE = "prospects:write"
CAMPAIGNS_WRITE = "campaigns:write"
SEND = "send"

SCOPES = {
    READ: "Read every resource (GET).",
    PROSPECTS_WRITE: "Create, change, delete, bulk-load and enrich prospects.",
    CAMPAIGNS_WRITE: "Create and change campaigns (not activate them) and inboxes.",
    SEND: "Make e-mail go out: activate campaigns, enroll prospects, requeue or discard "
    "dead letters.",
}
ALL_SCOPES = tuple(SCOPES)


def scopes_clean(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """Known scopes in their canonical order; raises ValueError naming an unknown one."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}")
    if not scopes:
        raise ValueError("a key needs at least one scope")
    return [scope for scope in ALL_SCOPES if scope in scopes]
