"""A minimal IMAP4rev1 server on loopback, enough for imaplib polling.

Supports CAPABILITY, LOGIN, SELECT/EXAMINE, UID SEARCH (UID ranges), SEARCH
`HEADER <name> <text>` (a case-insensitive substring, as RFC 3501 says; the
sender looks up Message-IDs in Sent with it), UID FETCH
(BODY[] / BODY.PEEK[]), NOOP and LOGOUT. Folders hold (uid, raw bytes); UIDs only
grow, as on a real server, and `renumber()` changes UIDVALIDITY.

    server = FakeImapServer(username="sales@x", password="pw").start()
    server.add("INBOX", raw_bytes)
    ... Inbox(imap_host="127.0.0.1", imap_port=server.port, imap_security="none")
"""

from __future__ import annotations

import email
import re
import socketserver
import threading
from dataclasses import dataclass, field

import pytest

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass
class Folder:
    uidvalidity: int = 1000
    next_uid: int = 1
    messages: list[tuple[int, bytes]] = field(default_factory=list)


def _args(text: str) -> list[str]:
    return [
        quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted or bare == "" else bare
        for quoted, bare in _QUOTED.findall(text)
    ]


def _header_has(raw: bytes, name: str, text: str) -> bool:
    values = email.message_from_bytes(raw).get_all(name) or []
    return any(text.lower() in str(value).lower() for value in values)


def _header_criteria(args: str) -> tuple[str, str] | None:
    """`HEADER <name> <text>` -> (name, text); None for any other search."""
    criteria = _args(args)
    if len(criteria) == 3 and criteria[0].upper() == "HEADER":
        return criteria[1], criteria[2]
    return None


def _uid_set(spec: str, highest: int) -> set[int] | range:
    """'5:*', '3:7', '4' -> the UIDs they name (`*` is the highest UID in the folder)."""
    uids: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition(":")
        start = highest if low == "*" else int(low)
        end = start if not high else (highest if high == "*" else int(high))
        uids.update(range(min(start, end), max(start, end) + 1))
    return uids


class FakeImapServer:
    def __init__(self, *, username: str = "user", password: str = "secret") -> None:
        self.username = username
        self.password = password
        self.folders: dict[str, Folder] = {"INBOX": Folder(), "Sent": Folder()}
        self.commands: list[str] = []
        self.fail_select = False
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    # --- control ---------------------------------------------------------------
    def start(self) -> FakeImapServer:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def add(self, folder: str, raw: bytes) -> int:
        with self._lock:
            box = self.folders.setdefault(folder, Folder())
            uid = box.next_uid
            box.next_uid += 1
            box.messages.append((uid, raw))
            return uid

    def renumber(self, folder: str = "INBOX") -> None:
        """What a server does after a mailbox rebuild: new UIDVALIDITY, new UIDs."""
        with self._lock:
            box = self.folders[folder]
            box.uidvalidity += 1
            box.messages = [(index + 1, raw) for index, (_, raw) in enumerate(box.messages)]
            box.next_uid = len(box.messages) + 1

    # --- serving ---------------------------------------------------------------
    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                super().setup()
                self.authenticated = False
                self.selected: Folder | None = None

            def send(self, data: bytes | str) -> None:
                self.wfile.write(data.encode() if isinstance(data, str) else data)

            def handle(self) -> None:
                self.send("* OK fake IMAP4rev1 ready\r\n")
                while line := self.rfile.readline():
                    tag, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
                    command, _, args = rest.partition(" ")
                    fake.commands.append(command.upper())
                    if not self.dispatch(tag, command.upper(), args):
                        return

            def dispatch(self, tag: str, command: str, args: str) -> bool:
                if command == "LOGOUT":
                    self.send(f"* BYE\r\n{tag} OK LOGOUT completed\r\n")
                    return False
                if command == "CAPABILITY":
                    self.send(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n")
                elif command == "NOOP":
                    self.send(f"{tag} OK NOOP\r\n")
                elif command == "LOGIN":
                    self.login(tag, args)
                elif not self.authenticated:
                    self.send(f"{tag} NO not authenticated\r\n")
                elif command in ("SELECT", "EXAMINE"):
                    self.select(tag, args)
                elif command == "UID" and self.selected is not None:
                    self.uid(tag, args)
                elif command == "SEARCH" and self.selected is not None:
                    self.search_header(tag, args)
                else:
                    self.send(f"{tag} BAD unsupported command\r\n")
                return True

            def login(self, tag: str, args: str) -> None:
                user, password = (_args(args) + ["", ""])[:2]
                if user == fake.username and password == fake.password:
                    self.authenticated = True
                    self.send(f"{tag} OK LOGIN completed\r\n")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")

            def select(self, tag: str, args: str) -> None:
                name = _args(args)[0] if args else ""
                box = fake.folders.get(name)
                if box is None or fake.fail_select:
                    self.send(f"{tag} NO [NONEXISTENT] no such mailbox\r\n")
                    return
                self.selected = box
                self.send(
                    f"* {len(box.messages)} EXISTS\r\n* 0 RECENT\r\n"
                    f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid\r\n"
                    f"* OK [UIDNEXT {box.next_uid}] Predicted next UID\r\n"
                    f"{tag} OK [READ-ONLY] selected\r\n"
                )

            def uid(self, tag: str, args: str) -> None:
                sub, _, rest = args.partition(" ")
                with fake._lock:
                    messages = list(self.selected.messages)
                highest = max((uid for uid, _ in messages), default=0)
                if sub.upper() == "SEARCH":
                    spec = rest.split()[-1]
                    wanted = _uid_set(spec, highest)
                    found = [str(uid) for uid, _ in messages if uid in wanted]
                    self.send(f"* SEARCH {' '.join(found)}\r\n{tag} OK SEARCH completed\r\n")
                elif sub.upper() == "FETCH":
                    spec = rest.split()[0]
                    wanted = _uid_set(spec, highest)
                    for seq, (uid, raw) in enumerate(messages, start=1):
                        if uid in wanted:
                            self.send(f"* {seq} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n")
                            self.send(raw + b")\r\n")
                    self.send(f"{tag} OK FETCH completed\r\n")
                else:
                    self.send(f"{tag} BAD unsupported UID command\r\n")

            def search_header(self, tag: str, args: str) -> None:
                criteria = _header_criteria(args)
                if criteria is None:
                    self.send(f"{tag} BAD only HEADER searches are supported\r\n")
                    return
                with fake._lock:
                    messages = list(self.selected.messages)
                found = [
                    str(seq)
                    for seq, (_, raw) in enumerate(messages, start=1)
                    if _header_has(raw, *criteria)
                ]
                self.send(f"* SEARCH {' '.join(found)}\r\n{tag} OK SEARCH completed\r\n")

        return Handler


@pytest.fixture
def fake_imap():
    server = FakeImapServer(username="sales@jengu.example", password="imap-secret").start()
    yield server
    server.stop()
