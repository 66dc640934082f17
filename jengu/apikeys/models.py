"""API keys for integrators and outbound webhook subscriptions with their delivery log."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from jengu.fields import EncryptedTextField


class ApiKey(models.Model):
    """A key for `X-API-Key`. Only a SHA-256 digest of the key is stored.

    The key is 256 random bits, so a plain digest is enough: a slow password hash
    protects guessable secrets, and nothing about a random key is guessable.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown to find a key.")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the full key.")
    scopes = ArrayField(
        models.CharField(max_length=32),
        default=list,
        help_text="What the key may do: read, prospects:write, campaigns:write, send.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def read_only(self) -> bool:
        return self.scopes == ["read"]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class WebhookSubscription(models.Model):
    """An integrator's URL that receives signed JSON for the events it chose."""

    url = models.URLField(max_length=500)
    events = ArrayField(
        models.CharField(max_length=64),
        default=list,
        help_text='Event names such as "prospect.replied"; "*" means every event.',
    )
    secret = EncryptedTextField(help_text="Signs each delivery (HMAC-SHA256).")
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription; the row is the source of truth."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="webhook_delivery_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"
