"""`launchready demo`: start the lab with a realistic mix of faults, audit it, show the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from launchready.cli.options import QuietOpt

# Fixed ports for the lab the demo offers to watch, so the monitor command can be printed in full
# before the lab runs; change them in both commands if one is taken.
DEMO_LAB_PORTS = {"dns": 25353, "https": 28443, "http": 28080, "smtp": 22525}
DEMO_MONITOR_LISTEN = "127.0.0.1:8787"
DEMO_ERROR_PROJECT = "marketlab"


def demo_error_dsn(workdir: Path) -> tuple[str | None, str | None]:
    """(The DSN of the error-intake project ``marketlab`` in the store the offered monitor uses, None)
    or (None, why not): created on the first demo, the same one after."""
    import time

    from launchready.intake.errors import IntakeError
    from launchready.intake.projects import add_project, list_projects
    from launchready.intake.store import open_store

    try:
        engine = open_store(None, workdir)  # WORKDIR/.launchready/monitor.sqlite, beside the lab's config
        try:
            with engine.begin() as conn:
                known = [p for p in list_projects(conn) if p.name == DEMO_ERROR_PROJECT]
                project = known[0] if known else add_project(conn, DEMO_ERROR_PROJECT, time.time())
        finally:
            engine.dispose()
    except IntakeError as exc:
        return None, str(exc)
    return project.dsn(f"http://{DEMO_MONITOR_LISTEN}"), None


def monitor_offer(workdir: Path, error_dsn: str | None = None) -> list[str]:
    """The commands that keep the lab running, watch it with `monitor serve`, and deploy a release.

    With ``error_dsn`` (see :func:`demo_error_dsn`) the lab's app reports its errors to the monitor.
    """
    from launchready.lab.faults import DEMO_FAULTS, monitor_faults
    from launchready.lab.lab import monitor_serve_command

    switches = ",".join([*DEMO_FAULTS, *(f.name for f in monitor_faults())])
    ports = DEMO_LAB_PORTS
    reporting = f" --error-dsn {error_dsn}" if error_dsn else ""
    return [
        "",
        "Watch the lab after launch (two terminals): start it, flaky health route and a cron job that",
        "stops pinging included"
        + (", its app reporting errors to the monitor" if error_dsn else "")
        + ", then the monitor (checks, heartbeat, errors, alerts, dashboard on "
        f"http://{DEMO_MONITOR_LISTEN}):",
        f"  launchready lab up --faults {switches} --workdir {workdir} "
        f"--dns-port {ports['dns']} --https-port {ports['https']} --http-port {ports['http']} "
        f"--smtp-port {ports['smtp']} --monitor-url http://{DEMO_MONITOR_LISTEN}{reporting}",
        "  "
        + monitor_serve_command(
            config=workdir / "launchready.toml",
            ca_bundle=workdir / "ca.pem",
            bind="127.0.0.1",
            dns_port=ports["dns"],
            https_port=ports["https"],
            http_port=ports["http"],
            smtp_port=ports["smtp"],
            listen=DEMO_MONITOR_LISTEN,
        ),
        "Then ship a release with a new bug (a third terminal): the deploy marker, then new-error-after-deploy's",
        "error in the member directory (https://api.marketlab.test/v1/members) as a new group with its alert:",
        f"  launchready lab deploy 1.1.0 --workdir {workdir}",
    ]


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        output_dir: Annotated[Path, typer.Option("--output-dir", help="Where to write the HTML report.")] = Path(
            "launchready-demo"
        ),
        quiet: QuietOpt = False,
    ) -> None:
        """Audit the lab (a fragile marketplace MVP on loopback) and write an HTML report. Works offline."""
        import tempfile

        from rich.console import Console

        from launchready.cli.audit_cmd import execute_audit
        from launchready.cli.common import audit_settings
        from launchready.config.loader import load_config
        from launchready.lab.faults import DEMO_FAULTS
        from launchready.lab.lab import Lab
        from launchready.report.formats import ReportFormat, render
        from launchready.report.terminal import render_terminal

        err = Console(stderr=True)
        if not quiet:
            err.print(
                f"[bold]Starting the lab[/bold] (marketlab.test on loopback) with faults: {', '.join(DEMO_FAULTS)}"
            )
            # The lab's launchready.toml declares its smoke flows (lab/smoke.yaml): app.smoke runs them.
            err.print(
                "The audit includes the lab's smoke flows (signup, email confirmation, login, invite, password "
                "reset, checkout) and judges the mail they make the app send (`launchready email test`)."
            )
        with tempfile.TemporaryDirectory(prefix="launchready-demo-") as tmp, Lab(faults=DEMO_FAULTS) as lab:
            config_path = Path(tmp) / "launchready.toml"
            config_path.write_text(lab.config_toml(mail_test=True), encoding="utf-8")
            loaded = load_config(config_path)
            net = lab.net_settings()
            # History lives with the demo output so the demo never touches a real project's store.
            config, repo = audit_settings(loaded, None, no_git_history=False)
            run = execute_audit(lab.domain, config, net, history_dir=output_dir, repo=repo, quiet=quiet)
        render_terminal(run, Console())
        output_dir.mkdir(parents=True, exist_ok=True)
        report = output_dir / "report.html"
        report.write_text(render(run, ReportFormat.HTML), encoding="utf-8")
        Console().print(
            f"\n[bold]HTML report:[/bold] {report.resolve()}\n"
            f"Try it yourself: [bold]launchready lab up --faults {','.join(DEMO_FAULTS)}[/bold] "
            "and run the audit command it prints."
        )
        lab_workdir = output_dir.resolve() / "lab"
        error_dsn, no_dsn = demo_error_dsn(lab_workdir)
        if no_dsn is not None:
            print(
                f"launchready: the lab's errors would go nowhere: no error-intake project ({no_dsn})", file=sys.stderr
            )
        for line in monitor_offer(lab_workdir, error_dsn):
            print(line)
        sys.stdout.flush()
