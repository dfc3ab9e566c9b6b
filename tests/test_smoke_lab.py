"""Smoke flows against the lab over real loopback DNS/TLS/HTTP/SMTP: the clean lab passes, each
fault is caught by the right flow at the right step, secrets never print, the CLI reports."""

from __future__ import annotations

import asyncio
import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.model import Config
from launchready.lab.lab import Lab
from launchready.smoke.plan import execute, plan_smoke
from launchready.smoke.report import SmokeFormat, render_smoke
from launchready.smoke.results import SmokeRun


def lab_config(lab: Lab, **smoke: object) -> Config:
    data = tomllib.loads(lab.config_toml())
    data["smoke"].update(smoke)
    return Config.model_validate(data)


def run_lab_flows(
    lab: Lab, config: Config | None = None, flows: tuple[str, ...] = (), environ: dict[str, str] | None = None
) -> SmokeRun:
    plan = plan_smoke(config or lab_config(lab), "production", flow_names=flows, environ=environ or {})
    return asyncio.run(execute(plan, lab.net_settings()))


def test_clean_lab_passes_every_flow(lab: Lab) -> None:
    run = run_lab_flows(lab)
    assert {f.name for f in run.flows} == {"signup", "login", "invite", "password-reset", "checkout", "directory-api"}
    assert [(f.name, f.reason) for f in run.failed] == []
    checkout = next(f for f in run.flows if f.name == "checkout")
    # The order really was paid by the signed webhook (the last step reads it back).
    assert checkout.steps[-1].name == "order shows paid" and checkout.steps[-1].passed


@pytest.mark.parametrize(
    ("fault", "flow", "step", "words"),
    [
        ("invite-accept-500", "invite", "accept the invitation", "expected status equals 303, got 500"),
        ("verification-email-missing", "signup", "confirmation email", "arrived within 3s"),
        ("webhook-rejects-valid", "checkout", "payment webhook", "expected status equals 200, got 400"),
        ("dashboard-loses-auth", "login", "dashboard", "expected status equals 200, got 303"),
    ],
)
def test_each_fault_is_caught_by_its_flow_and_step(fault: str, flow: str, step: str, words: str) -> None:
    with Lab(faults=[fault]) as lab:
        run = run_lab_flows(lab)
    by_name = {f.name: f for f in run.flows}
    failed = by_name[flow].failed_step
    assert failed is not None and failed.name == step and failed.origin == flow
    assert failed.failure is not None and words in failed.failure
    # Flows that include the broken one fail inside it; the rest pass.
    for other in run.flows:
        if other.passed:
            continue
        assert other.failed_step is not None and other.failed_step.origin == flow, other.name
    assert by_name["directory-api"].passed


LEAKY = """\
flows:
  leaky:
    steps:
      - name: key in the URL
        request: GET /health?api_key=${env:SMOKE_API_KEY}&plain=${env:SMOKE_API_KEY}
        expect:
          status: 418
"""


def test_secret_in_a_request_url_is_printed_masked(lab: Lab, tmp_path: Path) -> None:
    secret = "sk_live_0123456789abcdefSECRET"
    flows = tmp_path / "leaky.yaml"
    flows.write_text(LEAKY, encoding="utf-8")
    run = run_lab_flows(lab, lab_config(lab, files=[str(flows)]), environ={"SMOKE_API_KEY": secret})
    [flow] = run.flows
    assert not flow.passed and flow.failed_step is not None
    assert "expected status equals 418, got 200" in (flow.failed_step.failure or "")
    for fmt in SmokeFormat:
        text = render_smoke(run, fmt)
        assert secret not in text, fmt
        assert "sk_l…(30 chars)" in text, fmt


def test_cli_formats_and_exit_codes(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(lab.config_toml(), encoding="utf-8")
    base = ["smoke", "-c", str(config), "--quiet", *lab.cli_args()]
    code, out, _ = run_cli([*base, "--flow", "directory-api", "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["passed"] is True and [f["name"] for f in report["flows"]] == ["directory-api"]
    code, out, _ = run_cli([*base, "--flow", "signup", "--format", "junit"], capsys)
    suites = ET.fromstring(out)
    assert code == 0 and suites.get("failures") == "0" and [s.get("name") for s in suites] == ["signup"]
    code, out, _ = run_cli([*base, "--flow", "signup", "--format", "md"], capsys)
    assert code == 0 and "| signup | passed |" in out
    code, _, err = run_cli([*base, "--flow", "nope"], capsys)
    assert code == 2 and "--flow nope: no such flow" in err
    code, _, err = run_cli([*base, "--env", "staging"], capsys)
    assert code == 2 and "--env staging" in err


def test_cli_failed_flow_exits_1_with_step_detail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["webhook-rejects-valid"]) as lab:
        config = tmp_path / "launchready.toml"
        config.write_text(lab.config_toml(), encoding="utf-8")
        code, out, err = run_cli(["smoke", "-c", str(config), "--flow", "checkout", *lab.cli_args()], capsys)
        secret = lab.webhook_secret
    assert code == 1
    assert "FAIL checkout" in out and "FAIL payment webhook" in out
    assert "response: status 400;" in out and "signature does not match the payload" in out
    assert "- order shows paid  (not run)" in out
    assert "[checkout] FAIL payment webhook" in err  # live progress on stderr
    assert secret not in out and secret not in err


def test_bad_flow_file_is_exit_2_naming_the_line(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "bad.yaml").write_text("flows:\n  a:\n    steps:\n      - fetch: /x\n", encoding="utf-8")
    text = lab.config_toml().split("[smoke]")[0] + '[smoke]\nfiles = ["smoke/*.yaml"]\n'
    (tmp_path / "launchready.toml").write_text(text, encoding="utf-8")
    code, out, err = run_cli(["smoke", *lab.cli_args()], capsys)
    assert code == 2 and out == ""
    assert (
        err.strip()
        == "launchready: error: smoke/bad.yaml:4: unknown step type 'fetch' (expected request, email, webhook, error, flow)"
    )


def test_mailpit_api_of_the_lab(lab: Lab) -> None:
    from launchready.lab.client import LabClient

    client = LabClient.for_lab(lab)
    client.post(
        f"https://{lab.hosts.app}/signup",
        form={"name": "A", "email": "api-test@example.com", "password": "password123"},
    )
    lab.wait_for_message("api-test@example.com", 5)
    import urllib.request

    query = urllib.parse.quote('to:"api-test@example.com" subject:"Confirm"')
    with urllib.request.urlopen(f"{lab.mailbox_api_url}/api/v1/search?query={query}", timeout=5) as resp:
        listing = json.load(resp)
    [summary] = listing["messages"]
    with urllib.request.urlopen(f"{lab.mailbox_api_url}/api/v1/message/{summary['ID']}", timeout=5) as resp:
        message = json.load(resp)
    assert message["To"] == [{"Name": "", "Address": "api-test@example.com"}]
    assert "/verify?token=" in message["Text"]
