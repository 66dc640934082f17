"""Webhook delivery actor: thin, the service does the work (retry options: see webhooks)."""

from jengu.apikeys.webhooks import webhook_deliver
from jengu.bus import event_actor


@event_actor("DeliverWebhook", queue="track")
def deliver_webhook(delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)
