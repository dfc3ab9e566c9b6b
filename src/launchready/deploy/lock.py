"""One deploy (or rollback) per environment at a time: ``.launchready/deploy-ENV.lock``.

The lock is an ``flock`` on that file, so the kernel releases it when its holder dies, even by
SIGKILL; the file's content says who took it, when, and which deploy record that run opened.
A run that finds the lock free but a previous holder written in the file knows that holder
ended without cleaning up (its ``running`` record is then marked ``abandoned`` by the gate).
A lock whose holder is alive but stuck (or on another machine sharing the directory) is broken
with ``--force``: the file is replaced, and the old holder keeps a lock on a file nobody reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from launchready.deploy.errors import DeployError
from launchready.history.store import STORE_DIR


class DeployLocked(DeployError):
    """Another run holds the environment's lock (the CLI exits 1: the deploy did not run, nothing is wrong
    with the command line)."""


@dataclass(frozen=True)
class Holder:
    who: str
    since: str
    pid: int
    host: str
    action: str

    def describe(self) -> str:
        return f"{self.action} by {self.who} (pid {self.pid} on {self.host}) since {self.since}"


def lock_path(base_dir: Path, environment: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", environment)
    return Path(base_dir) / STORE_DIR / f"deploy-{safe}.lock"


def _read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Holder(str(data["who"]), str(data["since"]), int(data["pid"]), str(data["host"]), str(data["action"]))
    except (KeyError, TypeError, ValueError):
        return None


class EnvironmentLock:
    def __init__(self, base_dir: Path, environment: str) -> None:
        self.path = lock_path(base_dir, environment)
        self.environment = environment
        self._fd: int | None = None
        self.previous: Holder | None = None  # who held it last and never released it (crashed)
        self.broken: Holder | None = None  # whose live lock --force broke

    def holder(self) -> Holder | None:
        """Who holds the lock now, or None when it is free."""
        if not self.path.exists():
            return None
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(self.path) or Holder("unknown", "unknown", 0, "unknown", "deploy")
        finally:
            os.close(fd)  # closing drops the lock taken just to look
        return None

    def acquire(self, who: str, action: str, *, force: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _read_holder(self.path)
            if not force:
                held = holder.describe() if holder else "another launchready run"
                raise DeployLocked(
                    f"{self.environment} is locked: {held} ({self.path}); wait for it to finish, "
                    "or pass --force if that run is dead or stuck"
                ) from None
            # Breaking it: a new file under the same name; the stuck holder keeps the old inode.
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.previous = None
            self.broken = holder or Holder("unknown", "unknown", 0, "unknown", "deploy")
        else:
            self.broken = None
            self.previous = _read_holder(self.path)
        holder_now = {
            "who": who,
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "action": action,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder_now).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Emptied before unlocking: an empty file means the last holder finished cleanly.
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None
