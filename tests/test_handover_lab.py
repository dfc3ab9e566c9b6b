"""`launchready handover` end to end against the lab: audit with faults, fix two, audit again, deploy
through the gate, then the handover in every format — fixed vs deferred, the last deploy, the RDAP
expiry, a PDF that renders, and none of the secrets the lab plants in any format. An RDAP server
that answers garbage, stalls or redirects elsewhere is "could not run" in the audit and the handover."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cliutil import run_cli

from launchready.lab.lab import Lab

# The checks whose findings the two audits compare: registration (RDAP), the env contract, the
# repository scan, owners, the edge in front of the hosts and mail authentication. Enough for every
# handover section, and fast.
ONLY = (
    "dns.registration",
    "dns.owners",
    "env.contract",
    "repo.secrets",
    "web.edge",
    "email.spf",
    "email.dkim",
    "email.dmarc",
)
FIRST_FAULTS = ("registration-expiring", "registration-unlocked", "env-production-missing-var", "repo-secret-in-tree")
FIXED = ("registration-unlocked", "env-production-missing-var")
FIXED_IDS = ("dns.registration.no-transfer-lock", "env.contract.flow-variable-missing")
DEFERRED_IDS = ("dns.registration.expires-soon", "repo.secrets.exposed")
# The gate's deploy: health of the lab's app, then its smoke flows; the rollback is declared, never needed.
DEPLOY_TOML = '\n[smoke.deploy.production]\nrollback = "true"\nhealth_timeout = 20.0\n'


def only_args() -> list[str]:
    return [arg for check in ONLY for arg in ("--only", check)]


def write_config(lab: Lab, project: Path) -> Path:
    config = project / "launchready.toml"
    config.write_text(lab.config_toml() + DEPLOY_TOML, encoding="utf-8")
    return config


def planted_secrets(lab: Lab) -> set[str]:
    """Every secret the lab plants: the repository's leaks, the deploy exports' values, the
    payment webhook's signing secret and the heartbeat's ping UUID."""
    repo = lab.app_repo
    found = {v for v in repo.planted_values if len(v) >= 6}
    for export in (repo.production_env, repo.staging_env):
        for line in export.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            if name == "DATABASE_URL":
                password = urlsplit(value).password
                if password:
                    found.add(password)
            elif name in ("SESSION_SECRET", "POSTMARK_TOKEN", "STRIPE_SECRET_KEY"):
                found.add(value)
    found.add(lab.webhook_secret)
    found.add(lab.heartbeat_uuid)
    return found


def section(markdown: str, title: str) -> str:
    """The text of one ``## title`` section of the Markdown handover."""
    start = markdown.index(f"## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end >= 0 else len(markdown)]


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, timeout=60, check=True)
    return done.stdout.decode("utf-8", "replace")


def need_tool(name: str) -> None:
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required when CI is set (apt-get install poppler-utils chromium)")
        pytest.skip(f"{name} is not installed (apt-get install poppler-utils chromium)")


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, set[str], tuple[datetime, datetime]]]:
    """The project after the whole story; the secrets both labs planted; when the second audit ran."""
    need_tool("pdftoppm")
    need_tool("pdftotext")
    from launchready.perf.chromium import find_chromium

    if find_chromium() is None:
        need_tool("chromium")
    project = tmp_path_factory.mktemp("handover")
    capsys = _Capture()
    secrets: set[str] = set()
    with Lab(faults=FIRST_FAULTS) as lab:
        config = write_config(lab, project)
        secrets |= planted_secrets(lab)
        code, _, err = capsys.run(["audit", "-c", str(config), "-q", "-f", "json", *only_args(), *lab.cli_args()])
        assert code == 1, err  # blockers
    with Lab(faults=[f for f in FIRST_FAULTS if f not in FIXED]) as lab:
        config = write_config(lab, project)
        secrets |= planted_secrets(lab)
        before = datetime.now(UTC)
        code, _, err = capsys.run(["audit", "-c", str(config), "-q", "-f", "json", *only_args(), *lab.cli_args()])
        after = datetime.now(UTC)
        assert code == 1, err
        deploy = [sys.executable, "-c", "print('released')"]
        code, out, err = capsys.run(["deploy", "-c", str(config), *lab.cli_args(), "--", *deploy])
        assert code == 0 and "SUCCEEDED" in out, out + err
        for name in ("handover.md", "handover.html", "handover.pdf"):
            code, _, err = capsys.run(["handover", "-c", str(config), "-q", "-o", str(project / name), *lab.cli_args()])
            assert code == 0, err
        code, out, err = capsys.run(["handover", "-c", str(config), "-q", *lab.cli_args()])
        assert code == 0, err
        (project / "stdout.md").write_text(out, encoding="utf-8")
    yield project, secrets, (before, after)


class _Capture:
    """run_cli for a module-scoped fixture (pytest's capsys is per test): stdout and stderr to files."""

    def run(self, args: list[str]) -> tuple[int, str, str]:
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        from launchready.cli.main import main

        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
        return code, out.getvalue(), err.getvalue()


def test_handover_names_the_fixes_the_deferred_risks_the_last_deploy_and_the_expiry(
    handed_over: tuple[Path, set[str], tuple[datetime, datetime]],
) -> None:
    project, _, (before, after) = handed_over
    markdown = (project / "handover.md").read_text(encoding="utf-8")
    assert (project / "stdout.md").read_text(encoding="utf-8") == markdown  # -o FILE.md is the stdout document
    fixed = section(markdown, "Risks fixed since the first audit")
    deferred = section(markdown, "Risks deferred (still open)")
    for finding_id in FIXED_IDS:
        assert f"`{finding_id}`" in fixed and finding_id not in deferred
    for finding_id in DEFERRED_IDS:
        assert f"`{finding_id}`" in deferred and finding_id not in fixed
    # Each deferred risk comes with its fix; the backlog ranks the same risks first.
    assert "Renew the domain at the registrar now" in deferred
    backlog = section(markdown, "Next steps (ranked)")
    assert re.search(r"\| 1 \| \*\*BLOCKER\*\* \|", backlog)
    # The last deploy, its outcome and its smoke result.
    deploy = section(markdown, "How to deploy and roll back")
    assert "| Outcome | **succeeded** |" in deploy
    assert re.search(r"smoke after deploy: ok: \d+ flow\(s\) passed", deploy)
    assert "`launchready rollback --env production` runs `true`" in deploy
    # The registration, from the lab registry's RDAP answer: expiry half a day short of ten days.
    registration = section(markdown, "Domain and registration")
    expiries = {(moment + timedelta(days=9, hours=12)).strftime("%Y-%m-%d") for moment in (before, after)}
    assert any(f"| Registration expires | {day} |" in registration for day in expiries), registration
    assert "Loopback Registrar, Inc." in registration and "expires on" in registration
    # Names only: the contract's variables per environment, and how to rotate the provider keys.
    secrets = section(markdown, "Where secrets live")
    assert "| `STRIPE_SECRET_KEY` | listed in .env.example | set | set |" in secrets
    assert "Roll the key in the Stripe dashboard" in secrets
    # What serves each main host, with the edge web.edge recognised in front of it (the lab's emulated CDN).
    hosts = section(markdown, "Hosts and what serves them")
    apex = next(line for line in hosts.splitlines() if line.startswith("| `marketlab.test` |"))
    assert "; edge: launchready lab edge (lab only) (" in apex, hosts
    # The monitor's config, and its store (created by the deploy's marker) was read.
    watch = section(markdown, "What to watch")
    assert "`lab-cron`" in watch and "`production-health`" in watch and ": read." in watch


def test_no_handover_format_shows_a_planted_secret_even_masked(
    handed_over: tuple[Path, set[str], tuple[datetime, datetime]],
) -> None:
    project, secrets, _ = handed_over
    assert len(secrets) >= 10
    texts = {
        "md": (project / "handover.md").read_text(encoding="utf-8"),
        "html": (project / "handover.html").read_text(encoding="utf-8"),
        "pdf": pdf_text(project / "handover.pdf"),
    }
    for fmt, text in texts.items():
        leaked = sorted(s[:6] + "..." for s in secrets if s in text)
        assert leaked == [], f"{fmt} shows planted secrets: {leaked}"
        # Not even the masked form the scanner prints elsewhere (a prefix and the length).
        assert "chars)" not in text, fmt
        # Nor the first characters of a planted secret as a masked prefix would show them.
        assert not [s for s in secrets if len(s) > 12 and s[:8] in text], fmt


def test_the_pdf_renders_and_the_html_is_self_contained(
    handed_over: tuple[Path, set[str], tuple[datetime, datetime]],
) -> None:
    project, _, _ = handed_over
    pdf = project / "handover.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    page = project / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(page)], check=True, timeout=60)
    [png] = list(project.glob("page*.png"))
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000
    text = pdf_text(pdf)
    assert "Handover: marketlab.test" in text and "Risks fixed since the first audit" in text
    html = (project / "handover.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and 'src="http' not in html
    assert "Risks deferred (still open)" in html


# -- an RDAP server that misbehaves ---------------------------------------------------------------------


class _Rdap(BaseHTTPRequestHandler):
    mode = "garbage"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's handler name
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the audit gave up waiting (the stalled case): nobody reads the answer

    def _answer(self) -> None:
        if self.mode == "stall":
            time.sleep(4)  # past the audit's --timeout 1
        if self.mode == "redirect":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}{self.path}")
            self.end_headers()
            return
        body = b"<html>registry maintenance</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bad_rdap(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (_Rdap,), {"mode": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("bad_rdap", "words"),
    [("garbage", "not JSON"), ("stall", "RDAP lookup of marketlab.test failed"), ("redirect", "another host")],
    indirect=["bad_rdap"],
    ids=["garbage", "timeout", "redirect"],
)
def test_a_misbehaving_rdap_server_is_could_not_run_in_the_audit_and_the_handover(
    lab: Lab, bad_rdap: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(lab, tmp_path)
    args = lab.cli_args()
    at = args.index("--rdap-server")
    args[at + 1] = bad_rdap
    code, out, err = run_cli(
        ["audit", "-c", str(config), "-q", "-f", "md", "--only", "dns.registration", "--timeout", "1", *args], capsys
    )
    assert code == 0, err  # could not run is not a finding, and never a crash
    assert "Traceback" not in err and "dns.registration" in out and words in out
    code, out, err = run_cli(["handover", "-c", str(config), "-q", "--timeout", "1", *args], capsys)
    assert code == 0, err
    registration = section(out, "Domain and registration")
    assert "Registration: could not run: RDAP lookup of marketlab.test failed" in registration
    assert words in registration
    not_verified = section(out, "Not verified")
    assert "`dns.registration`" in not_verified and "could not run" in not_verified
    assert "VERIFY" in section(out, "Next steps (ranked)")
