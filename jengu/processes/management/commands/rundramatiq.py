"""`manage.py rundramatiq`: django_dramatiq's command, plus `--regions`.

    manage.py rundramatiq --regions eu-west            # eu-west's queues and the shared ones
    manage.py rundramatiq --queues send-eu-west        # one stage of one region

`--regions` names regions of `JENGU_REGIONS`; the worker consumes their enrich,
compose and send queues (`send-eu-west`, …) and the shared ones (validate, reply,
track, scheduled); the default region's workers also drain the plain enrich,
compose and send queues. Without either option a worker consumes every queue.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django_dramatiq.management.commands import rundramatiq

from jengu.regions import worker_queues


class Command(rundramatiq.Command):
    help = "Runs Dramatiq workers; --regions picks the queues of regions (JENGU_REGIONS)."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--regions",
            nargs="+",
            metavar="REGION",
            help="Consume these regions' queues (names from JENGU_REGIONS) and the shared ones",
        )

    def handle(self, *args: Any, regions: list[str] | None = None, **options: Any) -> None:
        if regions:
            if options.get("queues"):
                raise CommandError("give --regions or --queues, not both")
            try:
                options["queues"] = worker_queues(regions)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        super().handle(*args, **options)
