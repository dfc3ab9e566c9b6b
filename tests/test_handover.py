"""The handover document without a network: every section stays when there is nothing to show, secrets
are withheld whole, the monitor's store is read (never created), and the CLI's format rules."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cliutil import run_cli

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.handover.document import NO_AUDIT, WITHHELD, build_handover, withheld
from launchready.handover.facts import AuditHistory, DeployView, EnvContractView, HandoverFacts, MonitorView
from launchready.handover.gather import gather, notify_destination, read_monitor, without_password
from launchready.report.markdown import write_markdown

SECTIONS = (
    "Domain and registration",
    "Providers and their owners",
    "Hosts and what serves them",
    "Email senders and authentication",
    "DNS map",
    "Where secrets live",
    "How to deploy and roll back",
    "What to watch",
    "Risks fixed since the first audit",
    "Risks deferred (still open)",
    "Risks accepted",
    "Not verified",
    "Next steps (ranked)",
)


def empty_facts(config: Config | None = None) -> HandoverFacts:
    return HandoverFacts(
        domain="example.com",
        generated=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        config=config or Config(),
        config_path=None,
        history=AuditHistory(),
        env=EnvContractView(configured=False),
        deploy=DeployView(),
        monitor=MonitorView(configured=False),
    )


def test_every_section_stays_and_says_why_when_nothing_is_there() -> None:
    document = build_handover(empty_facts())
    assert tuple(s.title for s in document.sections) == SECTIONS
    markdown = write_markdown(document)
    for title in SECTIONS:
        assert f"## {title}\n" in markdown
    assert markdown.count(NO_AUDIT) >= 8  # every section built from an audit says so
    assert "Environment contract: not configured." in markdown
    assert "Monitor: not configured." in markdown
    assert "Environments: not configured." in markdown
    assert "\\[owners\\]: not configured." in markdown
    assert "launchready audit example.com" in markdown  # the first step of the backlog
    assert document.banner is not None and document.banner.headline == "NO AUDIT"


def test_an_unreadable_history_is_said_in_the_banner() -> None:
    facts = empty_facts()
    broken = HandoverFacts(**{**facts.__dict__, "history": AuditHistory(error="history database x is corrupt")})
    document = build_handover(broken)
    assert document.banner is not None and "corrupt" in document.banner.text


def test_masked_secrets_and_credentials_are_withheld_whole() -> None:
    assert withheld("deploy with token sk_l…(32 chars) done") == f"deploy with token {WITHHELD} done"
    assert WITHHELD in withheld("postgres://app:hunter2hunter2@db:5432/app")
    assert "hunter2" not in withheld("password=hunter2hunter2")
    assert withheld("nothing secret here") == "nothing secret here"


def test_destinations_never_show_a_secret() -> None:
    from launchready.config.sections.smoke import NotifyTarget

    slack = NotifyTarget(kind="slack", url="https://hooks.slack.com/services/T0/B0/SECRETPART")
    assert "SECRETPART" not in notify_destination(slack) and "move it to" in notify_destination(slack)
    referenced = NotifyTarget(kind="webhook", url="${env:HOOK_URL}")
    assert notify_destination(referenced) == "webhook: URL in ${env:HOOK_URL}"
    hook = NotifyTarget(kind="webhook", url="https://user:pw@hooks.example.com/deploy?key=abc")
    assert notify_destination(hook) == "webhook: hooks.example.com"
    assert without_password("postgresql://mon:s3cret@db.internal/monitor") == "postgresql://db.internal/monitor"


def test_the_monitor_store_is_read_never_created(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "domain": "example.com",
            "monitor": {
                "checks": [{"name": "home", "url": "https://example.com/", "interval": "1m"}],
                "heartbeats": [
                    {"name": "nightly", "cron": "0 3 * * *", "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}
                ],
                "alerts": [{"kind": "slack", "url": "${env:SLACK_URL}", "checks": ["home"]}],
            },
        }
    )
    view = read_monitor(config, tmp_path, NetSettings(timeout=1))
    assert view.configured and not view.derived
    assert "has not run" in view.store_state
    assert not (tmp_path / ".launchready").exists()
    assert [a.destination for a in view.alerts] == ["URL in ${env:SLACK_URL}"]
    assert view.alerts[0].routes == "check home"
    assert view.heartbeats == (("nightly", "cron 0 3 * * * (UTC), grace 5 min"),)
    markdown = write_markdown(build_handover(HandoverFacts(**{**empty_facts(config).__dict__, "monitor": view})))
    assert "0f8fad5b" not in markdown  # a heartbeat's ping UUID lets anyone ping it: never shown


def test_the_monitor_store_with_results_gives_states_and_the_error_budget(tmp_path: Path) -> None:
    from launchready.monitor.store.engine import default_store_url, open_store
    from launchready.monitor.store.repository import CheckSpec, ResultRecord, sync_checks, write_results

    engine = open_store(default_store_url(tmp_path))
    now = time.time()
    with engine.begin() as conn:
        sync_checks(conn, [CheckSpec("home", "http", "https://example.com/", 60.0, ())], now)
        records = [ResultRecord("home", now - 60 * i, i % 100 != 0, 12.0, 200, None, None) for i in range(1, 301)]
        write_results(conn, records)
    engine.dispose()
    config = Config.model_validate(
        {"monitor": {"checks": [{"name": "home", "url": "https://example.com/", "interval": "1m"}], "slo": 0.99}}
    )
    view = read_monitor(config, tmp_path, NetSettings(timeout=1))
    assert view.store_state == "read"
    [home] = view.live_checks
    assert home.uptime_30d == pytest.approx(297 / 300)
    # 3 failures of 300 runs against a 1 % budget (3 allowed): none of the budget left.
    assert home.budget_left == pytest.approx(0.0)


def test_gather_without_anything_stored_or_configured(tmp_path: Path) -> None:
    facts = gather(
        "example.com", Config(), config_path=None, base_dir=tmp_path, repo_root=None, net=NetSettings(timeout=1)
    )
    assert facts.history.latest is None and facts.history.error is None
    assert facts.deploy.environments == () and not facts.env.configured and not facts.monitor.configured
    assert not (tmp_path / ".launchready").exists()  # a handover writes nothing


def test_accepted_deferred_and_not_verified_risks_from_the_latest_run() -> None:
    from datetime import date

    from launchready.core.finding import Acceptance, CheckResult, Finding, Status
    from launchready.core.run import AuditRun, Decision, Verdict
    from launchready.core.severity import Impact, Severity

    def finding(finding_id: str, severity: Severity, accepted: Acceptance | None = None) -> Finding:
        return Finding(
            id=finding_id,
            check_id=finding_id.rsplit(".", 1)[0],
            title=f"title of {finding_id}",
            severity=severity,
            impact=Impact.TRUST,
            target="example.com",
            evidence=("sk_l…(32 chars)",),
            remediation=f"fix {finding_id}",
            accepted=accepted,
        )

    acceptance = Acceptance(reason="legacy host retired next month", by="Ana Lima", until=date(2027, 1, 31))
    open_one = finding("web.hsts.missing", Severity.HIGH)
    accepted = finding("tls.caa.missing", Severity.LOW, acceptance)
    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    run = AuditRun(
        tool_version="test",
        target="example.com",
        started=moment,
        finished=moment,
        decision=Decision(verdict=Verdict.SHIP_WITH_FIXES, reasons=(), rules=()),
        findings=(open_one, accepted),
        results=(
            CheckResult(check_id="web.hsts", target="example.com", status=Status.FAILED, findings=(open_one,)),
            CheckResult(
                check_id="dns.registration", target="example.com", status=Status.ERROR, reason="RDAP timed out"
            ),
        ),
        run_id=7,
    )
    facts = HandoverFacts(**{**empty_facts().__dict__, "history": AuditHistory(latest=run, first=run, runs=1)})
    markdown = write_markdown(build_handover(facts))
    accepted_part = markdown.split("## Risks accepted")[1].split("\n## ")[0]
    assert "Ana Lima" in accepted_part and "legacy host retired next month" in accepted_part
    assert "2027-01-31" in accepted_part and "`tls.caa.missing@example.com`" in accepted_part
    deferred_part = markdown.split("## Risks deferred (still open)")[1].split("\n## ")[0]
    assert "`web.hsts.missing`" in deferred_part and "fix web.hsts.missing" in deferred_part
    assert "tls.caa.missing" not in deferred_part
    assert "Registration: could not run: RDAP timed out" in markdown
    assert "Only one audit is stored" in markdown
    assert "chars)" not in markdown  # evidence (masked values) is never part of the pack


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "launchready.toml").write_text('domain = "example.com"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_markdown_to_stdout_by_default_and_the_format_from_the_extension(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["handover", "-q"], capsys)
    assert code == 0, err
    assert out.startswith("# Handover: example.com\n") and NO_AUDIT in out
    code, _, err = run_cli(["handover", "-q", "-o", "pack.html"], capsys)
    assert code == 0, err
    html = (project / "pack.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Handover: example.com" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format pdf writes a file: give -o handover.pdf"),
        (["-o", "pack.txt"], "cannot tell the format from '.txt'"),
    ],
)
def test_format_mistakes_are_one_line_and_exit_2(
    args: list[str], message: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["handover", "-q", *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_pdf_without_chromium_is_a_clear_error(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHREADY_CHROMIUM", str(project / "no-such-chromium"))
    code, out, err = run_cli(["handover", "-q", "-o", "pack.pdf"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("launchready: error: PDF output needs Chromium") and err.count("\n") == 1
    assert "apt-get install chromium" in err
    assert not (project / "pack.pdf").exists()


def test_what_serves_a_host_names_the_edge_the_audit_saw_in_front_of_it() -> None:
    from launchready.checks.web.edge import EDGE_FACT
    from launchready.core.facts import HostFact
    from launchready.core.run import AuditRun, Decision, HostSummary, Verdict

    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    run = AuditRun(
        tool_version="test",
        target="example.com",
        started=moment,
        finished=moment,
        decision=Decision(verdict=Verdict.SHIP, reasons=(), rules=()),
        findings=(),
        results=(),
        hosts=(
            HostSummary(name="example.com", addresses=("104.16.1.1",), found_by="apex"),
            HostSummary(
                name="www.example.com",
                addresses=("151.101.1.1",),
                cname_chain=("shop.global.fastly.net",),
                found_by="www",
            ),
            HostSummary(name="api.example.com", addresses=("203.0.113.9",), found_by="common-name"),
            HostSummary(name="mail.example.com", addresses=("203.0.113.25",), found_by="mx"),
        ),
        host_facts=(
            HostFact(
                host="example.com", name=EDGE_FACT, value="Cloudflare", check_id="web.edge", detail=("cf-ray: 8a1b",)
            ),
            HostFact(
                host="www.example.com",
                name=EDGE_FACT,
                value="Fastly",
                check_id="web.edge",
                detail=("x-served-by: cache-ams21",),
            ),
            HostFact(
                host="api.example.com",
                name=EDGE_FACT,
                value="none detected",
                check_id="web.edge",
                detail=("GET https://api.example.com/ -> 200: no CDN/WAF header or published range matched",),
            ),
            # Another check's fact on the host is not an edge.
            HostFact(host="mail.example.com", name="Header score", value="70 (B)", check_id="web.headers"),
        ),
        run_id=3,
    )
    facts = HandoverFacts(**{**empty_facts().__dict__, "history": AuditHistory(latest=run, first=run, runs=1)})
    hosts_part = write_markdown(build_handover(facts)).split("## Hosts and what serves them")[1].split("\n## ")[0]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in hosts_part.splitlines()
        if "example.com`" in line
    }
    assert rows["`example.com`"] == "104.16.1.1; edge: Cloudflare (cf-ray: 8a1b)"
    assert rows["`www.example.com`"] == (
        "Fastly (CNAME shop.global.fastly.net); edge: Fastly (x-served-by: cache-ams21)"
    )
    assert rows["`api.example.com`"] == "203.0.113.9; edge: none detected"
    assert rows["`mail.example.com`"] == "203.0.113.25"
