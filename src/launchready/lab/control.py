"""`launchready lab deploy VERSION`: ask the running `lab up` to deploy a release, through files.

`lab up` runs in the foreground of another terminal, so the two processes talk through the
lab's workdir, the one thing both know (`lab up` prints it; `--workdir` fixes it):

* ``control/lab.pid``: written by `lab up` while it runs (removed when it stops), so a deploy
  asked of a lab that is not running fails at once instead of waiting;
* ``control/deploy-<id>.request``: the version asked for, written by `lab deploy` under a
  temporary name and renamed (a reader never sees half a request);
* ``control/deploy-<id>.answer``: the release now running, or why not, as JSON; `lab deploy`
  waits for it, then removes it.

`lab up` looks for requests every half second, in the loop that already lists the lab's mail.
No socket is opened: whoever can write the workdir can deploy, as they could change the lab's
files anyway (a temporary workdir is private to its owner).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from launchready.lab.errors import LabError

CONTROL_DIR = "control"
PID_FILE = "lab.pid"
DEFAULT_WAIT_S = 20.0  # a deploy flushes the old SDK client (up to 5 s) before answering
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_POLL_S = 0.1


def check_version(version: str) -> str:
    """A release version as `lab deploy` takes it: letters, digits, '.', '_', '+', '-' (at most 64)."""
    if _VERSION.fullmatch(version) is None:
        raise LabError(f"version {version[:80]!r}: use letters, digits, '.', '_', '+' and '-' (at most 64, e.g. 1.1.0)")
    return version


def control_dir(workdir: Path) -> Path:
    return workdir / CONTROL_DIR


def mark_running(workdir: Path) -> Path:
    """`lab up` says it is there (its pid); returns the file to remove when it stops."""
    directory = control_dir(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("deploy-*"):
        stale.unlink(missing_ok=True)  # requests left by a lab that was killed
    pid_file = directory / PID_FILE
    pid_file.write_text(str(os.getpid()), encoding="utf-8")
    return pid_file


def _lab_running(workdir: Path) -> bool:
    try:
        pid = int((control_dir(workdir) / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)  # signal 0: is that process alive (and ours)?
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def check_lab_running(workdir: Path) -> None:
    """LabError (one line) unless a `lab up --workdir WORKDIR` is running."""
    if not (workdir / "launchready.toml").is_file():
        raise LabError(f"--workdir {workdir}: no lab there (`launchready lab up --workdir {workdir}` writes one)")
    if not _lab_running(workdir):
        raise LabError(
            f"--workdir {workdir}: the lab is not running (start it: launchready lab up --workdir {workdir})"
        )


def request_deploy(workdir: Path, version: str, wait_s: float = DEFAULT_WAIT_S) -> str:
    """Ask the running lab in ``workdir`` to deploy ``version``; returns the release it now runs."""
    check_version(version)
    check_lab_running(workdir)
    request_id = uuid.uuid4().hex
    request = control_dir(workdir) / f"deploy-{request_id}.request"
    answer = control_dir(workdir) / f"deploy-{request_id}.answer"
    _write_atomically(request, version)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            reply = json.loads(answer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            time.sleep(_POLL_S)
            continue
        except ValueError:
            reply = {"error": "the lab's answer was not JSON"}
        answer.unlink(missing_ok=True)
        if not isinstance(reply, dict) or not isinstance(reply.get("release"), str):
            error = reply.get("error") if isinstance(reply, dict) else None
            raise LabError(f"the lab did not deploy {version}: {error or 'no release in its answer'}")
        return str(reply["release"])
    request.unlink(missing_ok=True)
    raise LabError(f"--workdir {workdir}: the lab did not answer within {wait_s:g} s (is `lab up` still running?)")


def _age(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0  # withdrawn meanwhile: reading it fails below and is answered as an error


def answer_requests(workdir: Path, deploy: Callable[[str], str]) -> list[str]:
    """Carry out the deploy requests waiting in ``workdir`` (oldest first); returns the released versions."""
    directory = control_dir(workdir)
    done: list[str] = []
    for request in sorted(directory.glob("deploy-*.request"), key=_age):
        answer = request.with_suffix(".answer")
        try:
            version = check_version(request.read_text(encoding="utf-8").strip())
            reply: dict[str, str] = {"release": deploy(version)}
            done.append(reply["release"])
        except (OSError, LabError) as exc:
            reply = {"error": str(exc)}
        request.unlink(missing_ok=True)
        _write_atomically(answer, json.dumps(reply))
    return done
