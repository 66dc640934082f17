"""A local SMTP sink for `make run`: accepts every message and keeps it on disk.

The demo inbox sends to 127.0.0.1:1025; each accepted message is written to
`.local/mail/<timestamp>-<n>.eml` and announced on one line, so a user can open
exactly what a prospect would receive. Never used in production.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from jengu.embedded import LOCAL_DIR

MAIL_DIR = LOCAL_DIR / "mail"


class DiskSink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = itertools.count(1)
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.counter)}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        print(f"[mail] {envelope.mail_from} → {', '.join(envelope.rcpt_tos)}: {path.name}")
        return "250 Message accepted for delivery"


def main(port: int = 1025) -> None:
    controller = Controller(DiskSink(MAIL_DIR), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"[mail] SMTP sink on 127.0.0.1:{port}, messages in {MAIL_DIR}")
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
