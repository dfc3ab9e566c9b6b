"""The deploy gate end to end on loopback: a tiny app whose release is a file, real HTTP
notification receivers and a real SMTP server; deploy, smoke, rollback, records, notifications."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from cliutil import run_cli
from netutil import closed_port

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.deploy.gate import DeployGate, split_command
from launchready.deploy.store import DeployStore

PY = sys.executable
FLOWS = """\
flows:
  status:
    impact: signup
    steps:
      - request: GET /status
        expect:
          status: 200
          json: {$.release: {matches: '^good'}}
"""


@dataclass
class Loopback:
    """The app (release read from a file) and the notification receivers, on one loopback port."""

    release: Path
    port: int = 0
    posts: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    status_hits: int = 0  # GET /status answered (the health route in the verification test)


def _serve(state: Loopback, ready: threading.Event, stop: threading.Event) -> None:
    async def status(request: web.Request) -> web.Response:
        state.status_hits += 1
        release = state.release.read_text().strip()
        return web.json_response({"release": release}, status=500 if release.startswith("broken") else 200)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def receive(request: web.Request) -> web.Response:
        state.posts.setdefault(request.match_info["name"], []).append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    async def main_loop() -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/status", status),
                web.get("/health", health),
                web.post("/hooks/{name}", receive),
                web.post("/hooks/{name}/{tail:.*}", receive),
            ]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.port = runner.addresses[0][1]
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.02)
        await runner.cleanup()

    asyncio.run(main_loop())


class _Mails:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(getattr(envelope, "content", b""))
        return "250 OK"


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[tuple[Loopback, _Mails, int]]:
    state = Loopback(tmp_path / "release.txt")
    state.release.write_text("good-1\n")
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=_serve, args=(state, ready, stop), daemon=True)
    thread.start()
    ready.wait(10)
    mails = _Mails()
    port = closed_port()
    controller = Controller(mails, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield state, mails, port
    finally:
        controller.stop()
        stop.set()
        thread.join()


def write_release(path: Path, text: str) -> str:
    return f"{PY} -c \"open({str(path)!r}, 'w').write({text!r})\""


def make_config(state: Loopback, smtp_port: int, tmp_path: Path, *, rollback: str | None) -> Config:
    flows = tmp_path / "smoke.yaml"
    flows.write_text(FLOWS, encoding="utf-8")
    base = f"http://127.0.0.1:{state.port}"
    deploy: dict[str, object] = {"health_timeout": 2.0}
    if rollback is not None:
        deploy["rollback"] = rollback
    return Config.model_validate(
        {
            "environments": {"production": {"base_url": base}},
            "smoke": {
                "files": [str(flows)],
                "deploy": {"production": deploy},
                "notify": [
                    {"kind": "slack", "url": f"{base}/hooks/slack"},
                    {"kind": "webhook", "url": f"{base}/hooks/generic", "secret": "${env:HOOK_SECRET}"},
                    {
                        "kind": "email",
                        "smtp": f"127.0.0.1:{smtp_port}",
                        "sender": "deploy@example.com",
                        "to": ["team@example.com"],
                    },
                ],
            },
        }
    )


ENVIRON = {"HOOK_SECRET": "hook-secret-value-123", "LAUNCHREADY_DEPLOYER": "ana@example.com"}


def gate(config: Config, tmp_path: Path, out: io.StringIO) -> DeployGate:
    return DeployGate(config, "production", NetSettings(timeout=3), base_dir=tmp_path, out=out, environ=ENVIRON)


def finished_outcomes(state: Loopback, mails: _Mails) -> tuple[list[str], list[str], list[str]]:
    slack = [json.loads(body)["text"].splitlines()[0] for _, body in state.posts.get("slack", [])]
    hooks = [json.loads(body) for _, body in state.posts.get("generic", [])]
    emails = [m.decode(errors="replace") for m in mails.messages]
    return slack, [f"{h['event']}:{h['outcome']}" for h in hooks], emails


def test_successful_deploy_is_recorded_and_announced(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, mails, smtp = loopback
    out = io.StringIO()
    result = gate(make_config(state, smtp, tmp_path, rollback=None), tmp_path, out).deploy(
        [PY, "-c", f"print('shipping'); open({str(state.release)!r}, 'w').write('good-2')"]
    )
    assert result.outcome == "succeeded" and result.ok
    assert "  | shipping" in out.getvalue()  # the command's output, streamed
    slack, hooks, emails = finished_outcomes(state, mails)
    assert slack[0].startswith("Deploy started") and slack[1].startswith("Deploy finished: succeeded")
    assert hooks == ["deploy.started:None", "deploy.finished:succeeded"]
    assert len(emails) == 2 and "Subject: [launchready] Deploy finished: succeeded" in emails[1]
    # The generic webhook is signed like GitHub's: HMAC-SHA256 of the body with the shared secret.
    headers, body = state.posts["generic"][1]
    expected = "sha256=" + hmac.new(ENVIRON["HOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Launchready-Signature-256"] == expected
    [record] = DeployStore(tmp_path).list()
    assert (record.environment, record.outcome, record.who) == ("production", "succeeded", "ana@example.com")
    assert "smoke after deploy: ok" in record.summary


def test_failing_command_is_reported_without_rollback(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, mails, smtp = loopback
    out = io.StringIO()
    rollback = write_release(state.release, "good-rolled")
    result = gate(make_config(state, smtp, tmp_path, rollback=rollback), tmp_path, out).deploy(
        [PY, "-c", "import sys; print('migration failed'); sys.exit(3)"]
    )
    assert result.outcome == "command-failed" and not result.ok
    assert "  | migration failed" in out.getvalue()
    assert state.release.read_text() == "good-1\n"  # no rollback was run
    _, hooks, emails = finished_outcomes(state, mails)
    assert hooks[-1] == "deploy.finished:command-failed"
    assert "exited with 3" in emails[-1]
    assert DeployStore(tmp_path).list()[0].outcome == "command-failed"


def test_failing_smoke_rolls_back_and_verifies_again(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, mails, smtp = loopback
    config = make_config(state, smtp, tmp_path, rollback=write_release(state.release, "good-rolled"))
    result = gate(config, tmp_path, io.StringIO()).deploy(
        write_release(state.release, "broken-2").split(" ", 2)[:2]
        + [f"open({str(state.release)!r}, 'w').write('broken-2')"]
    )
    assert result.outcome == "rolled-back" and not result.ok
    assert [label for label, _ in result.smoke_runs] == ["after deploy", "after rollback"]
    assert not result.smoke_runs[0][1].passed and result.smoke_runs[1][1].passed
    assert state.release.read_text() == "good-rolled"
    text = result.render()
    assert "FAIL smoke after deploy: failed: status" in text and "ok   smoke after rollback" in text
    assert "expected status equals 200, got 500" in text
    _, hooks, _ = finished_outcomes(state, mails)
    assert hooks[-1] == "deploy.finished:rolled-back"


@pytest.mark.parametrize("rollback_breaks", ["command", "still-broken"])
def test_failing_rollback_is_reported(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, rollback_breaks: str
) -> None:
    state, mails, smtp = loopback
    rollback = (
        f'{PY} -c "import sys; sys.exit(4)"'
        if rollback_breaks == "command"
        else write_release(state.release, "broken-still")
    )
    config = make_config(state, smtp, tmp_path, rollback=rollback)
    result = gate(config, tmp_path, io.StringIO()).deploy(
        [PY, "-c", f"open({str(state.release)!r}, 'w').write('broken-2')"]
    )
    assert result.outcome == "rollback-failed"
    slack, hooks, emails = finished_outcomes(state, mails)
    assert hooks[-1] == "deploy.finished:rollback-failed"
    assert slack[-1].startswith("Deploy finished: rollback-failed")
    assert "rollback-failed" in emails[-1]
    detail = (
        "rollback command: FAILED: exited with 4"
        if rollback_breaks == "command"
        else "[after rollback] flow status: FAILED"
    )
    assert detail in DeployStore(tmp_path).list()[0].summary


def test_unreachable_notification_target_does_not_change_the_outcome(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path
) -> None:
    state, _, smtp = loopback
    config = make_config(state, smtp, tmp_path, rollback=None)
    config = config.model_copy(
        update={
            "smoke": config.smoke.model_copy(
                update={
                    "notify": (
                        config.smoke.notify[0].model_copy(update={"url": f"http://127.0.0.1:{closed_port()}/x"}),
                    )
                }
            )
        }
    )
    out = io.StringIO()
    result = gate(config, tmp_path, out).deploy([PY, "-c", "pass"])
    assert result.outcome == "succeeded"
    assert [d.ok for d in result.deliveries] == [False, False]
    assert "notification to slack" in out.getvalue() and "connection refused" in out.getvalue()


def _toml(state: Loopback, smtp: int, tmp_path: Path, rollback: str) -> Path:
    flows = tmp_path / "smoke.yaml"
    flows.write_text(FLOWS, encoding="utf-8")
    path = tmp_path / "launchready.toml"
    path.write_text(
        f'[environments.production]\nbase_url = "http://127.0.0.1:{state.port}"\n\n'
        f'[smoke]\nfiles = ["smoke.yaml"]\n\n[smoke.deploy.production]\nrollback = {json.dumps(rollback)}\nhealth_timeout = 2.0\n'
        f'\n[[smoke.notify]]\nkind = "slack"\nurl = "${{env:SLACK_URL}}"\n',
        encoding="utf-8",
    )
    return path


def test_cli_dry_run_and_rollback_check(
    loopback: tuple[Loopback, _Mails, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, _, smtp = loopback
    slack_url = f"http://127.0.0.1:{state.port}/hooks/slack/T000/B000/XXXXXXXXSECRETXXXX"
    monkeypatch.setenv("SLACK_URL", slack_url)
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    code, out, _ = run_cli(["deploy", "-c", str(config), "--dry-run", "--", PY, "-c", "print(1)"], capsys)
    assert code == 0 and "dry run" in out and "run smoke flows: status" in out
    assert "XXXXXXXXSECRETXXXX" not in out
    assert not (tmp_path / ".launchready").exists() and "slack" not in state.posts
    code, out, _ = run_cli(["rollback", "-c", str(config), "--check"], capsys)
    assert code == 0 and "rollback-check production" in out and "CHECKED" in out
    assert state.release.read_text() == "good-1\n"  # checking never rolls back
    # The check sends one real message to each target, marked as a test.
    [(_, test_body)] = state.posts["slack"]
    assert json.loads(test_body)["text"].startswith("Test notification (nothing was deployed)")
    assert "ok   test notification to slack" in out
    code, out, _ = run_cli(["deploy", "-c", str(config), "--", PY, "-c", "print('deployed')"], capsys)
    assert code == 0 and "SUCCEEDED" in out and len(state.posts["slack"]) == 3
    assert "XXXXXXXXSECRETXXXX" not in out
    code, _, err = run_cli(["deploy", "-c", str(config), "--env", "staging", "--", "true"], capsys)
    assert code == 2 and "--env staging" in err


# -- real deploy scripts: hanging, backgrounding, signalled, concurrent, killed ------------------------

# A deploy script that starts a grandchild (its pid written to a file), says it is ready, then hangs;
# with "stubborn" it notes SIGTERM and SIGINT (a file per signal) and carries on: only SIGKILL stops it.
HANGING = """\
import os, signal, subprocess, sys, time
from pathlib import Path
marks = Path(sys.argv[1])
if "stubborn" in sys.argv:
    def noted(signum, frame):
        (marks / f"got-{signum}").write_text("")
    signal.signal(signal.SIGTERM, noted)
    signal.signal(signal.SIGINT, noted)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
(marks / "pids.tmp").write_text(f"{os.getpid()} {child.pid}")
(marks / "pids.tmp").rename(marks / "pids")
print("deploying, token=tok-" + "9f8e7d6c5b4a", flush=True)
while not (marks / "release-me").exists():
    time.sleep(0.05)
print("done", flush=True)
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    # Only a bound for a broken build: on a machine busy with the suite's parallel workers,
    # starting `launchready deploy` and its script alone has taken over 30 s.
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def script(tmp_path: Path, text: str = HANGING) -> Path:
    path = tmp_path / "deploy_script.py"
    path.write_text(text, encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    return path


def pids(tmp_path: Path) -> list[int]:
    wait_for(lambda: (tmp_path / "marks" / "pids").exists(), "the deploy script to start")
    return [int(p) for p in (tmp_path / "marks" / "pids").read_text().split()]


def with_deploy(config: Config, **settings: object) -> Config:
    deploy = config.smoke.deploy["production"].model_copy(update=settings)
    return config.model_copy(update={"smoke": config.smoke.model_copy(update={"deploy": {"production": deploy}})})


@pytest.mark.parametrize("stubborn", [False, True])
def test_hanging_deploy_times_out_stops_its_process_group_and_rolls_back(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, stubborn: bool
) -> None:
    state, mails, smtp = loopback
    config = make_config(state, smtp, tmp_path, rollback=write_release(state.release, "good-rolled"))
    config = with_deploy(config, timeout=1.0, kill_grace=0.5)
    path = script(tmp_path)
    argv = [PY, str(path), str(tmp_path / "marks")] + (["stubborn"] if stubborn else [])
    out = io.StringIO()
    result = gate(config, tmp_path, out).deploy(argv)
    assert result.outcome == "timed-out" and not result.ok and result.exit_code == 1
    leader, grandchild = pids(tmp_path)
    wait_for(lambda: not alive(leader) and not alive(grandchild), "the whole process group to be stopped")
    detail = "SIGTERM, then SIGKILL" if stubborn else "(SIGTERM)"
    assert detail in result.render() and "ran past its 1s timeout" in result.render()
    assert state.release.read_text() == "good-rolled"  # the rollback followed
    assert "ok   smoke after rollback" in result.render()
    assert "tok-9f8e7d6c5b4a" not in out.getvalue() and "  | deploying, token=" in out.getvalue()
    _, hooks, _ = finished_outcomes(state, mails)
    assert hooks[-1] == "deploy.finished:timed-out"
    [record] = DeployStore(tmp_path).list()
    assert record.outcome == "timed-out" and record.finished is not None


def test_hanging_rollback_times_out(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, mails, smtp = loopback
    path = script(tmp_path)
    config = make_config(state, smtp, tmp_path, rollback=f"{PY} {path} {tmp_path / 'marks'}")
    result = gate(with_deploy(config, timeout=1.0, kill_grace=0.5), tmp_path, io.StringIO()).rollback()
    assert result.outcome == "timed-out"
    leader, grandchild = pids(tmp_path)
    wait_for(lambda: not alive(leader) and not alive(grandchild), "the rollback's process group to be stopped")
    _, hooks, _ = finished_outcomes(state, mails)
    assert hooks[-1] == "rollback.finished:timed-out"


BACKGROUND = """\
import subprocess, sys
from pathlib import Path
# Like `server &` in restart.sh: the server inherits stdout and outlives the script.
server = subprocess.Popen(
    [sys.executable, "-c", "import sys, time\\nprint('server up', flush=True)\\ntime.sleep(600)"]
)
Path(sys.argv[1], "server.pid").write_text(str(server.pid))
print("restarted", flush=True)
"""


def test_background_server_does_not_hold_the_gate(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, _, smtp = loopback
    path = script(tmp_path, BACKGROUND)
    out = io.StringIO()
    result = gate(make_config(state, smtp, tmp_path, rollback=None), tmp_path, out).deploy(
        [PY, str(path), str(tmp_path / "marks")]
    )
    server = int((tmp_path / "marks" / "server.pid").read_text())
    try:
        assert result.outcome == "succeeded"
        assert "  | restarted" in out.getvalue()
        assert alive(server)  # a deploy that succeeded leaves the server it started running
    finally:
        os.kill(server, signal.SIGKILL)


def cli_env(state: Loopback) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_URL": f"http://127.0.0.1:{state.port}/hooks/slack/T000/B000/XXXXXXXXSECRETXXXX",
        "LAUNCHREADY_DEPLOYER": "ana@example.com",
    }


def start_cli(state: Loopback, config: Path, *args: str) -> subprocess.Popen[str]:
    """``launchready ARGS -c CONFIG`` as a process of its own; ARGS start with the command
    (``deploy`` when they start with ``--``, the deploy command following)."""
    command = ["deploy", *args] if args[0] == "--" else list(args)
    return subprocess.Popen(
        [PY, "-m", "launchready", command[0], "-c", str(config), *command[1:]],
        env=cli_env(state),
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signalled_deploy_is_recorded_announced_and_stops_the_command_group(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, signum: int, code: int
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    path = script(tmp_path)
    process = start_cli(state, config, "--", PY, str(path), str(tmp_path / "marks"))
    leader, grandchild = pids(tmp_path)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    name = signal.Signals(signum).name
    [line] = [line for line in err.splitlines() if line.startswith("launchready: cancelled")]
    assert line == (
        f"launchready: cancelled by {name}: production may be partly deployed: the deploy command was stopped "
        "part-way; no rollback run; check it, or run `launchready rollback --env production`"
    )
    assert "CANCELLED" in out
    wait_for(lambda: not alive(leader) and not alive(grandchild), "the deploy command's group to be stopped")
    [record] = DeployStore(tmp_path).list()
    assert record.outcome == "cancelled" and record.finished is not None
    finished = json.loads(state.posts["slack"][-1][1])["text"]
    assert finished.startswith("Deploy finished: cancelled")
    assert state.release.read_text() == "good-1\n"  # no rollback on a cancel


def test_second_deploy_to_a_locked_environment_refuses_and_force_breaks_it(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    path = script(tmp_path)
    first = start_cli(state, config, "--", PY, str(path), str(tmp_path / "marks"))
    try:
        pids(tmp_path)
        code, _, err = run_cli(["deploy", "-c", str(config), "--", PY, "-c", "print('second')"], capsys)
        assert code == 1
        assert "production is locked: deploy by ana@example.com (pid " in err and " since 20" in err
        assert "--force" in err
        code, out, _ = run_cli(["deploy", "-c", str(config), "--dry-run", "--", "true"], capsys)
        assert code == 0 and "LOCKED now: deploy by ana@example.com" in out
        # The first run is stuck: --force takes the environment over.
        code, out, err = run_cli(["deploy", "-c", str(config), "--force", "--", PY, "-c", "print('forced')"], capsys)
        assert code == 0 and "SUCCEEDED" in out, err
        assert "--force: took the lock from deploy by ana@example.com (pid " in err
        # The stuck run's record is no longer `running`: the forced run marked it.
        assert [r.outcome for r in DeployStore(tmp_path).list()] == ["succeeded", "abandoned"]
    finally:
        (tmp_path / "marks" / "release-me").write_text("")
        first.communicate(timeout=60)
    assert first.returncode == 0
    # The stuck run, once done, records its own outcome over `abandoned`.
    assert [r.outcome for r in DeployStore(tmp_path).list()] == ["succeeded", "succeeded"]


def test_killed_run_leaves_a_record_the_next_run_marks_abandoned(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    path = script(tmp_path)
    first = start_cli(state, config, "--", PY, str(path), str(tmp_path / "marks"))
    leader, grandchild = pids(tmp_path)
    first.kill()  # SIGKILL: nothing of launchready runs after this
    first.communicate(timeout=60)
    os.killpg(leader, signal.SIGKILL)  # its command, in a group of its own, is left behind
    assert DeployStore(tmp_path).list()[0].outcome == "running"
    code, out, err = run_cli(["deploy", "-c", str(config), "--", PY, "-c", "print('next')"], capsys)
    assert code == 0 and "SUCCEEDED" in out
    assert "ended without releasing the lock" in err and "deploy #1 was left running" in err
    records = {r.id: r for r in DeployStore(tmp_path).list()}
    assert records[1].outcome == "abandoned" and records[1].finished is not None
    assert records[2].outcome == "succeeded"


def test_rollback_check_sends_a_marked_test_and_fails_on_unset_or_dead_targets(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    with config.open("a", encoding="utf-8") as toml:
        toml.write('\n[[smoke.notify]]\nkind = "webhook"\nurl = "${env:HOOK_URL}"\n')
    environ = cli_env(state)
    environ.pop("HOOK_URL", None)
    done = subprocess.run(
        [PY, "-m", "launchready", "deploy", "--dry-run", "-c", str(config), "--", "true"],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "warning: notification target webhook ${env:HOOK_URL}: url: ${env:HOOK_URL} is not set" in done.stdout
    assert "notifications were not sent (dry run)" in done.stdout
    done = subprocess.run(
        [PY, "-m", "launchready", "rollback", "--check", "-c", str(config)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "CHECK-FAILED" in done.stdout
    assert (
        "FAIL test notification to webhook ${env:HOOK_URL}: not delivered: url: ${env:HOOK_URL} is not set"
        in done.stdout
    )
    assert "ok   test notification to slack" in done.stdout
    # A URL that resolves but nobody answers: the check fails too.
    environ["HOOK_URL"] = f"http://127.0.0.1:{closed_port()}/hook"
    done = subprocess.run(
        [PY, "-m", "launchready", "rollback", "--check", "-c", str(config)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "connection refused" in done.stdout
    # A live receiver gets a message marked as a test.
    environ["HOOK_URL"] = f"http://127.0.0.1:{state.port}/hooks/generic"
    done = subprocess.run(
        [PY, "-m", "launchready", "rollback", "--check", "-c", str(config)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    headers, body = state.posts["generic"][-1]
    payload = json.loads(body)
    assert payload["test"] is True and payload["event"] == "notify.test"
    assert headers["X-Launchready-Event"] == "notify.test"
    assert not (tmp_path / ".launchready" / "history.sqlite").exists()  # a check records nothing


def test_cancel_during_verification_says_the_new_release_is_unverified(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    # /status answers 500 for a broken release: used as the health route, the gate keeps waiting.
    text = config.read_text().replace(
        "[environments.production]\n", '[environments.production]\nhealth_path = "/status"\n'
    )
    config.write_text(text.replace("health_timeout = 2.0", "health_timeout = 600"))
    process = start_cli(state, config, "--", *split_command(write_release(state.release, "broken-2")))
    wait_for(lambda: state.status_hits > 0, "the gate to wait for health")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert (
        "launchready: cancelled by SIGTERM: production is on the new release, not verified "
        "(cancelled during verification); no rollback run"
    ) in err
    assert state.release.read_text() == "broken-2"
    [record] = DeployStore(tmp_path).list()
    assert record.outcome == "cancelled" and "not verified" in record.summary


def test_interrupted_rollback_check_stops_its_command_group(
    loopback: tuple[Loopback, _Mails, int], tmp_path: Path
) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    path = script(tmp_path)
    check = json.dumps(f"{PY} {path} {tmp_path / 'marks'}")
    text = config.read_text().replace("health_timeout = 2.0", f"health_timeout = 2.0\nrollback_check = {check}")
    config.write_text(text)
    process = start_cli(state, config, "rollback", "--check")
    leader, grandchild = pids(tmp_path)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in err
    wait_for(lambda: not alive(leader) and not alive(grandchild), "the rollback check's group to be stopped")


def test_a_second_signal_cuts_the_grace_period_short(loopback: tuple[Loopback, _Mails, int], tmp_path: Path) -> None:
    state, _, smtp = loopback
    config = _toml(state, smtp, tmp_path, write_release(state.release, "good-rolled"))
    # A grace period longer than the test's patience: only the second signal can end it in time.
    config.write_text(config.read_text().replace("health_timeout = 2.0", "health_timeout = 2.0\nkill_grace = 600"))
    path = script(tmp_path)
    process = start_cli(state, config, "--", PY, str(path), str(tmp_path / "marks"), "stubborn")
    leader, grandchild = pids(tmp_path)
    process.send_signal(signal.SIGINT)
    # The script got the forwarded SIGINT (and ignored it): launchready has seen the first signal.
    wait_for(lambda: (tmp_path / "marks" / f"got-{int(signal.SIGINT)}").exists(), "the forwarded signal")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "cancelled: its process group got SIGINT, then SIGKILL" in out
    wait_for(lambda: not alive(leader) and not alive(grandchild), "the group to be killed")
