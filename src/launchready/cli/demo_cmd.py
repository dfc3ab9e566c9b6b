"""`launchready demo`: start the lab with a realistic mix of faults, audit it, show the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

# Fixed ports for the lab the demo offers to watch, so the monitor command can be printed in full
# before the lab runs; change them in both commands if one is taken.
DEMO_LAB_PORTS = {"dns": 25353, "https": 28443, "http": 28080, "smtp": 22525}
DEMO_MONITOR_LISTEN = "127.0.0.1:8787"


def monitor_offer(workdir: Path) -> list[str]:
    """The two commands that keep the lab running and watch it with `monitor serve`."""
    from launchready.lab.faults import DEMO_FAULTS, monitor_faults
    from launchready.lab.lab import monitor_serve_command

    switches = ",".join([*DEMO_FAULTS, *(f.name for f in monitor_faults())])
    ports = DEMO_LAB_PORTS
    return [
        "",
        "Watch the lab after launch (two terminals): start it, flaky health route and a cron job that",
        "stops pinging included, then the monitor (checks, heartbeat, alerts, dashboard on "
        f"http://{DEMO_MONITOR_LISTEN}):",
        f"  launchready lab up --faults {switches} --workdir {workdir} "
        f"--dns-port {ports['dns']} --https-port {ports['https']} --http-port {ports['http']} "
        f"--smtp-port {ports['smtp']} --monitor-url http://{DEMO_MONITOR_LISTEN}",
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
    ]


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        output_dir: Annotated[Path, typer.Option("--output-dir", help="Where to write the HTML report.")] = Path(
            "launchready-demo"
        ),
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")] = False,
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
        for line in monitor_offer(output_dir.resolve() / "lab"):
            print(line)
        sys.stdout.flush()
