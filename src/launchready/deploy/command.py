"""Run a deploy or rollback command with its output streamed (masked) as it comes.

The command runs in a process group of its own (a new session): a timeout or a cancel stops the
whole group (SIGTERM, then SIGKILL after a grace period), so the children of a deploy script are
not orphaned. Its output goes to a temporary file the gate tails rather than to a pipe: a script
that leaves a server running in the background (``server &``) hands that server its stdout, and
with a pipe the gate would wait for the server to close it. The gate waits for the command's
exit, prints what was written until then, and stops reading; the server keeps running and keeps
writing to a file nobody reads, instead of dying of a broken pipe. The file is unlinked at once:
its space is freed when the last writer closes it (a chatty server should log elsewhere).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from launchready.smoke.secrets import Masker

EXIT_NOT_FOUND = 127
POLL_SECONDS = 0.05
DEFAULT_GRACE = 10.0


@dataclass(frozen=True)
class CommandResult:
    """How a command ended: ``code`` is its exit status (negative: killed by that signal).

    ``timed_out`` — it ran past its timeout and its process group was stopped;
    ``cancelled`` — the signal launchready received and forwarded to the group, or None.
    """

    code: int
    timed_out: bool = False
    cancelled: int | None = None
    killed: bool = False  # the group ignored SIGTERM (or the forwarded signal) and got SIGKILL

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.timed_out and self.cancelled is None


class _Tail:
    """The lines appended to the output file since the last read, masked and prefixed."""

    def __init__(self, source: BinaryIO, out: TextIO, masker: Masker, prefix: str) -> None:
        self._source = source
        self._out = out
        self._masker = masker
        self._prefix = prefix
        self._pending = b""

    def pump(self, *, final: bool = False) -> None:
        chunk = self._source.read()
        if chunk:
            self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        if final and self._pending:
            lines.append(self._pending)
            self._pending = b""
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip("\r")
            print(self._prefix + self._masker.text(text), file=self._out, flush=True)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie does not count: an orphan whose reaper
    (PID 1 in many containers) never reaps it would otherwise look alive forever."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, hence the rsplit.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _wait_group(
    process: subprocess.Popen[bytes],
    pgid: int,
    seconds: float,
    tail: _Tail,
    hurry: Callable[[], bool] = lambda: False,
) -> bool:
    """Wait up to ``seconds`` (or until ``hurry()``) for the command and every process of its group to exit."""
    deadline = time.monotonic() + seconds
    while process.poll() is None or _group_alive(pgid):
        if time.monotonic() >= deadline or hurry():
            return False
        tail.pump()
        time.sleep(POLL_SECONDS)
    return True


def run_command(
    argv: Sequence[str],
    out: TextIO,
    masker: Masker,
    *,
    prefix: str = "  | ",
    cwd: Path | None = None,
    timeout: float | None = None,
    grace: float = DEFAULT_GRACE,
    cancel_requested: Callable[[], int | None] = lambda: None,
    hurry: Callable[[], bool] = lambda: False,
) -> CommandResult:
    """Run ``argv`` (no shell) in its own process group, copying each output line to ``out``.

    ``cancel_requested`` is polled while the command runs: when it returns a signal number, that
    signal goes to the command's group, which gets ``grace`` seconds before SIGKILL — or less, as
    soon as ``hurry()`` says so (a second Ctrl-C).
    """
    # The writer (the command) and the reader (the gate) need file descriptions of their own: a
    # shared one would share the offset, and the reader would always be at the end.
    sink, path = tempfile.mkstemp(prefix="launchready-deploy-")
    try:
        with open(path, "rb") as source:
            os.unlink(path)
            return _run(argv, out, masker, sink, source, prefix, cwd, timeout, grace, cancel_requested, hurry)
    finally:
        os.close(sink)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _run(
    argv: Sequence[str],
    out: TextIO,
    masker: Masker,
    sink: int,
    source: BinaryIO,
    prefix: str,
    cwd: Path | None,
    timeout: float | None,
    grace: float,
    cancel_requested: Callable[[], int | None],
    hurry: Callable[[], bool],
) -> CommandResult:
    try:
        process = subprocess.Popen(
            list(argv),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError:
        print(f"{prefix}{argv[0]}: command not found", file=out, flush=True)
        return CommandResult(EXIT_NOT_FOUND)
    except PermissionError:
        print(f"{prefix}{argv[0]}: permission denied", file=out, flush=True)
        return CommandResult(126)
    tail = _Tail(source, out, masker, prefix)
    pgid = process.pid  # the leader of its new session and group
    deadline = None if timeout is None else time.monotonic() + timeout
    stop_signal: int | None = None
    timed_out = False
    try:
        while process.poll() is None:
            tail.pump()
            cancelled = cancel_requested()
            if cancelled is not None:
                stop_signal = cancelled
                break
            if deadline is not None and time.monotonic() >= deadline:
                timed_out = True
                stop_signal = signal.SIGTERM
                break
            time.sleep(POLL_SECONDS)
    except BaseException:
        # Interrupted without a handler of ours (Ctrl-C in `rollback --check`, a caller's own
        # KeyboardInterrupt): the group, in a session of its own, would otherwise run on unseen.
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_group(process, pgid, grace, tail):
            _signal_group(pgid, signal.SIGKILL)
        process.wait()
        raise
    killed = False
    if stop_signal is not None:
        _signal_group(pgid, stop_signal)
        if not _wait_group(process, pgid, grace, tail, hurry):
            killed = True
            _signal_group(pgid, signal.SIGKILL)
        process.wait()
    tail.pump(final=True)
    return CommandResult(
        process.returncode,
        timed_out=timed_out,
        cancelled=None if timed_out else stop_signal,
        killed=killed,
    )


def resolvable(argv: Sequence[str], cwd: Path | None = None) -> bool:
    program = argv[0]
    if os.sep in program:
        path = Path(program) if Path(program).is_absolute() or cwd is None else cwd / program
        return path.is_file() and os.access(path, os.X_OK)
    return shutil.which(program) is not None


def _git(args: Sequence[str], cwd: Path | None) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and text else None


def current_version(cwd: Path | None) -> str:
    return _git(["describe", "--always", "--dirty", "--tags"], cwd) or "unknown"


def deployer(environ: Mapping[str, str], cwd: Path | None) -> str:
    if environ.get("LAUNCHREADY_DEPLOYER"):
        return environ["LAUNCHREADY_DEPLOYER"]
    found = _git(["config", "user.email"], cwd)
    if found:
        return found
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
