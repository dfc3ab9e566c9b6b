"""The deploy gate end to end on loopback: a tiny app whose release is a file, real HTTP
notification receivers and a real SMTP server; deploy, smoke, rollback, records, notifications."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from cliutil import run_cli
from netutil import closed_port

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.deploy.gate import DeployGate
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


def _serve(state: Loopback, ready: threading.Event, stop: threading.Event) -> None:
    async def status(request: web.Request) -> web.Response:
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
