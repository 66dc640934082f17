"""The SMTP sink in a process of its own, for benchmarks.

An inbox's mail server is another machine: its CPU must not be billed to the
sender. In the test's own process the sink's asyncio loop competes with the
worker threads for the GIL, so a throughput figure would measure both.

`python -m tests.fakes.smtp_process PORT LOG` accepts every message and appends
one line per message to LOG: the time it was accepted, its Message-ID and its
recipients.
"""

from __future__ import annotations

import email.parser
import logging
import subprocess
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.fakes.smtp import free_port


class _Recorder:
    def __init__(self, log: Path) -> None:
        self.log = log.open("a", buffering=1)
        self.parser = email.parser.BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        recipients = ",".join(envelope.rcpt_tos)
        self.log.write(f"{time.time()} {headers['Message-ID']} {recipients}\n")
        return "250 2.0.0 accepted"


class SmtpSinkProcess:
    """Starts the sink process; `count()` and `accepted()` read what it recorded."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    def start(self) -> SmtpSinkProcess:
        self.log.touch()
        command = [sys.executable, "-m", "tests.fakes.smtp_process", str(self.port), str(self.log)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink process did not start")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def _lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def count(self) -> int:
        # Polled every few ms by the benchmark, in the process whose CPU it measures.
        return self.log.read_bytes().count(b"\n")

    def accepted(self) -> dict[str, float]:
        """Message-ID -> the time (epoch seconds) the sink accepted it."""
        return {
            message_id: float(accepted_at)
            for accepted_at, message_id, _ in (line.split(" ", 2) for line in self._lines())
        }

    def deliveries(self) -> list[tuple[float, str, str]]:
        """(accepted at, Message-ID, recipient) of every message, in order."""
        rows = []
        for accepted_at, message_id, recipients in (line.split(" ", 2) for line in self._lines()):
            rows += [(float(accepted_at), message_id, rcpt) for rcpt in recipients.split(",")]
        return rows


def main(port: int, log: Path) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(_Recorder(log), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
