"""What the audit did not verify, which config it used, and bad selections: against the lab."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.name
import dns.rcode
import pytest
from cliutil import run_cli

from launchready.core.registry import load_registry
from launchready.history.store import HistoryStore
from launchready.lab.lab import Lab


def write_config(directory: Path, text: str) -> Path:
    path = directory / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("flag", "value", "hint"),
    [
        ("--only", "emial", "did you mean email"),
        ("--only", "web.h", "web.headers"),
        ("--skip", "dns.apexx", "did you mean dns.apex"),
        ("--only", "zzzz", "`launchready checks` lists them"),
    ],
)
def test_a_selection_that_matches_nothing_is_exit_2_with_a_hint(
    flag: str, value: str, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["audit", "example.com", flag, value, "--no-history", "--quiet"], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(f"launchready: error: {flag} {value}: ")
    assert hint in err
    assert err.count("\n") == 1


def test_a_config_selection_that_matches_nothing_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'domain = "example.com"\n[audit]\nnot_applicable = ["app.smok"]\n')
    code, _, err = run_cli(["audit", "-c", str(config), "--no-history", "--quiet"], capsys)
    assert code == 2
    assert err == (
        f"launchready: error: {config}: [audit] not_applicable app.smok: is not a check id; did you mean app.smoke?\n"
    )


def test_a_finding_id_selects_the_check_that_emits_it() -> None:
    registry = load_registry()
    [check] = [c for c in registry.checks if c.id == "email.spf"]
    finding_id = check.meta.findings[0].id
    assert registry.matching(finding_id) == ("email.spf",)
    assert [c.id for c in registry.select(only=(finding_id,)).checks] == ["email.spf"]
    assert registry.matching("email.sp") == ()  # prefixes stop at a dot
    assert "email.spf" in registry.suggest("email.sp")


def test_unconfigured_flows_are_not_verified_in_every_format(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'domain = "marketlab.test"\n')  # no environments, no flows
    args = ["audit", "-c", str(config), "--only", "app", "--no-history", "--quiet", *lab.cli_args()]
    code, out, err = run_cli([*args, "--format", "json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["decision"]["verdict"] == "SHIP WITH FIXES"
    unconfigured = {r["check_id"]: r for r in report["not_configured"]}
    assert set(unconfigured) == {"app.errors", "app.health", "app.smoke"}
    assert "[environments.production]" in unconfigured["app.health"]["configure"]
    assert any("not configured" in reason for reason in report["decision"]["reasons"])
    for fmt, needle in (
        ("md", "To run it"),
        ("html", "To run it"),
        ("sarif", "is not configured"),
        ("junit", "Not verified: not configured"),
    ):
        code, out, _ = run_cli([*args, "--format", fmt], capsys)
        assert needle in out, fmt
        assert "Every check ran" not in out
    code, out, _ = run_cli(args, capsys)
    assert "Not verified: 3 check(s) not configured" in out
    assert "Not verified: none" not in out


def test_checks_marked_not_applicable_do_not_count_as_unverified(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, 'domain = "marketlab.test"\n[audit]\nnot_applicable = ["app.errors", "app.health", "app.smoke"]\n'
    )
    code, out, err = run_cli(
        ["audit", "-c", str(config), "--only", "app", "--format", "json", "--no-history", "--quiet", *lab.cli_args()],
        capsys,
    )
    report = json.loads(out)
    assert report["not_configured"] == []
    assert report["decision"]["verdict"] == "SHIP"
    assert all("not applicable" in r["reason"] for r in report["results"])


def test_a_found_config_for_another_domain_is_not_applied(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its subdomain does not exist in the lab: applied, dns.hosts would report it.
    config = write_config(tmp_path, 'domain = "other.test"\nsubdomains = ["ghost"]\n')
    monkeypatch.chdir(tmp_path)
    args = ["audit", "marketlab.test", "--only", "dns.hosts", "--format", "json", "--no-history", *lab.cli_args()]
    code, out, err = run_cli(args, capsys)
    assert f"config {config} is for other.test, not marketlab.test: not applied" in err
    assert "ghost" not in out
    code, out, err = run_cli([*args, "--config", str(config)], capsys)
    assert f"config: {config}" in err
    assert "ghost.marketlab.test" in out


def test_init_keeps_the_network_flags_so_a_plain_audit_reaches_the_lab(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "launchready.toml"
    code, _, err = run_cli(["init", "marketlab.test", "-o", str(target), *lab.cli_args()], capsys)
    assert code == 0, err
    assert f"launchready audit --config {target}" in err
    assert "[net]" in target.read_text(encoding="utf-8")
    code, out, err = run_cli(
        ["audit", "-c", str(target), "--only", "dns.apex", "--format", "json", "--quiet", "--no-history"], capsys
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["target"] == "marketlab.test"
    assert report["findings"] == [] and report["not_run"] == []


def test_lab_up_prints_an_audit_command_with_its_config(lab: Lab) -> None:
    from launchready.lab.lab import describe

    text = describe(lab)
    [command] = [line.strip() for line in text.splitlines() if line.strip().startswith("launchready audit")]
    assert (
        command
        == f"launchready audit {lab.domain} {' '.join(lab.cli_args())} --config {lab.workdir / 'launchready.toml'}"
    )


@pytest.fixture
def refusing_then_silent_nameserver() -> Iterator[int]:
    """Answers the pre-check (REFUSED to anything about the root) and drops every other question."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(wire)
            if query.question[0].name == dns.name.root:
                reply = dns.message.make_response(query)
                reply.set_rcode(dns.rcode.REFUSED)
                sock.sendto(reply.to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    sock.close()


def test_a_run_whose_apex_lookup_failed_is_not_a_history_baseline(
    refusing_then_silent_nameserver: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["audit", "example.test", "--only", "dns.apex", "--format", "json", "--quiet"]
    args += ["--nameserver", f"127.0.0.1:{refusing_then_silent_nameserver}", "--timeout", "0.5"]
    code, out, err = run_cli(args, capsys)
    assert code == 1, err  # the apex is unresolvable: a finding, as before
    assert json.loads(out)["findings"][0]["id"] == "dns.apex.unresolvable"
    assert "this run is not stored in history" in err
    store = HistoryStore(tmp_path)
    try:
        assert store.list_runs() == []
    finally:
        store.close()
