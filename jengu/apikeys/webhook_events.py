"""Names of the events integrators can subscribe to (a public contract)."""

WEBHOOK_EVENTS = (
    "prospect.stage_changed",
    "prospect.replied",
    "prospect.unsubscribed",
    "prospect.bounced",
    "email.sent",
    "email.bounced",
)
