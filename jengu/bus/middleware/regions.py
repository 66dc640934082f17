"""Declares each region's queues beside the plain queue of a regional stage's actor."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Middleware

from jengu.regions import is_regional, regional_queues, stage_of


class RegionalQueues(Middleware):
    """When an enrich, compose or send actor is declared, declare `<stage>-<region>`
    for every region of `JENGU_REGIONS` on the same broker.

    A worker consumes the declared queues (or those of them it is told to), and the
    RabbitMQ broker creates a queue on the server when it is declared, so a region's
    queues exist before the first event is routed there.
    """

    def after_declare_actor(self, broker: dramatiq.Broker, actor: dramatiq.Actor) -> None:
        if is_regional(actor.queue_name):
            regional_queues_declare(broker, stages=[stage_of(actor.queue_name)])


def regional_queues_declare(broker: dramatiq.Broker, *, stages: list[str] | None = None) -> None:
    """Declare the configured regions' queues of `stages` (default: every regional one)."""
    for queue in regional_queues():
        if stages is None or stage_of(queue) in stages:
            broker.declare_queue(queue)
