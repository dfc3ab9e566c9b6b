"""A real IMAP server for tests: Debian's dovecot-imapd, started on a loopback port with a temporary
configuration (maildir under the test's directory, one passwd-file user with a plain password,
IMAPS with a lab CA certificate, a Junk folder flagged ``\\Junk`` under a name that is not "Junk").

Run as root (CI containers), the mail processes run as ``nobody``: dovecot refuses to run them as
root. Run as another user, everything runs as that user. Without dovecot the test is skipped with a
printed reason, unless ``CI`` is set: there it must run.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from launchready.lab.ca import LabCA

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "tester", "dovecot-pass-7f3a9c"
# The spam folder's name is deliberately not "Junk" or "Spam": the reader must find it by its flag.
JUNK_FOLDER = "Pourriel"
DECOY_FOLDER = "Spam"  # named like a spam folder, but not flagged: mail there is not "in junk"

_CONFIG = """\
base_dir = {run}
instance_name = launchready-test-{port}
state_dir = {run}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox {junk} {{
    special_use = \\Junk
    auto = create
  }}
  mailbox {decoy} {{
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""


@dataclass(frozen=True)
class Dovecot:
    port: int
    ca_bundle: Path
    root: Path

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, folder: str, raw: bytes) -> None:
        """Put a message into ``folder`` the way a mail server's delivery agent does: IMAP APPEND."""
        client = self.client()
        try:
            status, data = client.append(f'"{folder}"', None, None, raw)
            assert status == "OK", data
        finally:
            client.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, its group, mail uid, mail gid): nobody when root, else the current user."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        group = "nogroup" if _group_exists("nogroup") else "nobody"
        return "nobody", group, nobody.pw_uid, nobody.pw_gid
    me = pwd.getpwuid(os.geteuid())
    import grp

    return me.pw_name, grp.getgrgid(me.pw_gid).gr_name, me.pw_uid, me.pw_gid


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _wait_listening(port: int, log: Path, process_deadline: float) -> None:
    while time.monotonic() < process_deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"dovecot did not listen on 127.0.0.1:{port}: {text}")


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """Dovecot in a directory of its own: pytest's are owner-only, and the mail processes run as
    nobody when the test runs as root."""
    root = Path(tempfile.mkdtemp(prefix="launchready-dovecot-"))
    root.chmod(0o755)
    try:
        with _dovecot_in(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _dovecot_in(root: Path) -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        reason = f"{DOVECOT} is not installed (Debian package dovecot-imapd)"
        if os.environ.get("CI"):
            pytest.fail(f"a real IMAP server is required under CI: {reason}")
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    user, group, uid, gid = _accounts()
    ca = LabCA.create()
    bundle = ca.write_bundle(root / "ca.pem")
    cert, key = ca.issue(["127.0.0.1", "imap.mailtest.test"]).write(root, "imap")
    run = root / "run"
    run.mkdir()
    home = root / "mail" / USER
    home.mkdir(parents=True)
    for path in (root / "mail", home):
        os.chown(path, uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}\n")
    config = root / "dovecot.conf"
    for _ in range(5):
        port = _free_port()
        config.write_text(
            _CONFIG.format(
                run=run,
                root=root,
                port=port,
                cert=cert,
                key=key,
                user=user,
                group=group,
                junk=JUNK_FOLDER,
                decoy=DECOY_FOLDER,
            )
        )
        # Output to a file, not a pipe: the daemon it leaves behind would hold a pipe open forever.
        with (root / "start.out").open("w+") as out:
            started = subprocess.run([DOVECOT, "-c", str(config)], stdout=out, stderr=out, timeout=30)
            out.seek(0)
            said = out.read().strip()
        # The port was free when picked; a test running alongside may have taken it since.
        if started.returncode == 0 or "Address already in use" not in said:
            break
    if started.returncode != 0:
        message = f"dovecot could not start: {said}"
        if os.environ.get("CI"):
            pytest.fail(message)
        print(f"SKIP: {message}")
        pytest.skip(message)
    deadline = time.monotonic() + 20
    while not (run / "master.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    master_pid = int((run / "master.pid").read_text().strip())
    try:
        _wait_listening(port, root / "dovecot.log", deadline)
        yield Dovecot(port, bundle, root)
    finally:
        # Only the master we started: it takes its own children down with it.
        try:
            os.kill(master_pid, 15)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(master_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
