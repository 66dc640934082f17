"""Deliverability: authentication checks, inbox health, placement tests, send-time
optimisation and A/B winners (docs/deliverability.md)."""
