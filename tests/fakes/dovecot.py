"""A real Dovecot IMAP server on loopback, with its own config, users and maildirs under a
temporary folder (Debian's `dovecot-imapd`). Tests skip when it is not installed.

    server = DovecotServer(users={"seed@gmail.test": "pw"}).start()
    server.append("seed@gmail.test", "pw", "Junk", raw_bytes)
    ... SeedMailbox(imap_host="127.0.0.1", imap_port=server.port, imap_security="none")
    server.stop()
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.fakes.smtp import free_port

BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_login_user = {login_user}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    auto = create
    special_use = \\Junk
  }}
}}
"""


def available() -> bool:
    """Dovecot is installed and we can run it as its system users (root, Debian)."""
    if not os.path.exists(BINARY) or os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        return False
    return True


class DovecotServer:
    def __init__(self, *, users: dict[str, str]) -> None:
        self.users = users
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="jengu-dovecot-"))
        self.process: subprocess.Popen | None = None

    def _write_config(self) -> Path:
        mail_user = pwd.getpwnam("dovecot")
        os.chmod(self.root, 0o755)  # noqa: S103 - dovecot's own users must reach it
        for folder in ("run", "state", "mail", "home"):
            (self.root / folder).mkdir()
        for folder in ("mail", "home"):
            os.chown(self.root / folder, mail_user.pw_uid, mail_user.pw_gid)
        users = self.root / "users"
        users.write_text("".join(f"{name}:{{PLAIN}}{pw}\n" for name, pw in self.users.items()))
        os.chmod(users, 0o644)
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                user="dovecot",
                login_user="dovenull",
                uid=mail_user.pw_uid,
                gid=mail_user.pw_gid,
            )
        )
        return config

    def start(self) -> DovecotServer:
        config = self._write_config()
        self.process = subprocess.Popen(
            [BINARY, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not start listening in 15 s")

    def append(self, user: str, password: str, folder: str, raw: bytes) -> None:
        """Put a message in a folder, as the provider's filter would."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            client.login(user, password)
            client.append(f'"{folder}"', None, None, raw)
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
