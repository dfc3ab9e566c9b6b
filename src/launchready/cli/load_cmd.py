"""`launchready load`: the constant-arrival-rate load test (and `--growth`) against declared endpoints."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from launchready.cli import common
from launchready.cli.errors import UsageError
from launchready.cli.options import (
    CaBundleOpt,
    ConfigOpt,
    ConnectToOpt,
    NameserverOpt,
    QuietOpt,
    RdapServerOpt,
    ReportOutputOpt,
    TimeoutOpt,
)
from launchready.core.severity import Severity

if TYPE_CHECKING:
    from launchready.config.model import Config
    from launchready.core.finding import Finding
    from launchready.core.net import NetSettings
    from launchready.perf.generator import LoadResult, Progress


class LoadFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"
    MD = "md"
    HTML = "html"


def _progress_line(err: TextIO) -> Progress:
    def show(fraction: float, result: LoadResult) -> None:
        p95 = result.overall.percentile(95) / 1000
        err.write(
            f"\r  {fraction:4.0%}  {result.total} requests  {result.errors} errors  p95 {p95:.1f} ms  "
            f"generator CPU {result.watch.cpu_samples[-1] if result.watch.cpu_samples else 0:.0%}, "
            f"waited p99 {result.watch.wait.percentile(99) / 1000:.1f} ms   "
        )
        err.flush()

    return show


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.severity.at_least(Severity.LOW) for f in findings) else 0


def register(app: typer.Typer) -> None:
    @app.command()
    def load(
        endpoint: Annotated[
            list[str] | None, typer.Option("--endpoint", "-e", help="Only these [[perf.endpoints]] names (repeatable).")
        ] = None,
        url: Annotated[
            list[str] | None,
            typer.Option("--url", help="A path or URL on a declared host to load instead (repeatable)."),
        ] = None,
        rate: Annotated[
            float | None,
            typer.Option("--rate", help="Requests per second, all endpoints together (default perf.rate)."),
        ] = None,
        duration: Annotated[
            float | None, typer.Option("--duration", help="Measured seconds (default perf.duration_s).")
        ] = None,
        warmup: Annotated[
            float | None, typer.Option("--warmup", help="Seconds sent first and not measured (default perf.warmup_s).")
        ] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                help="Processes sharing the schedule (default: one, or all cores when the rate needs more than one).",
            ),
        ] = None,
        growth: Annotated[bool, typer.Option("--growth", help="Run the growth test (perf.growth) instead.")] = False,
        fmt: Annotated[LoadFormat, typer.Option("--format", "-f", help="Report format.")] = LoadFormat.TERMINAL,
        output: ReportOutputOpt = None,
        config: ConfigOpt = None,
        nameserver: NameserverOpt = None,
        ca_bundle: CaBundleOpt = None,
        connect_to: ConnectToOpt = None,
        rdap_server: RdapServerOpt = None,
        timeout: TimeoutOpt = 10.0,
        quiet: QuietOpt = False,
    ) -> int:
        """Open-model load test of the read endpoints in launchready.toml; budgets decide the exit code."""
        import asyncio

        from rich.console import Console

        from launchready.checks.perf import load as load_check
        from launchready.perf import report
        from launchready.perf.auth import LoginFailed
        from launchready.perf.plan import plan
        from launchready.perf.session import log_in_for, measure, settings_for
        from launchready.perf.workers import WorkerFailed
        from launchready.report.console_controls import visible_controls

        loaded = common.load(config)
        cfg = loaded.config
        net = common.net_settings(nameserver, ca_bundle, connect_to, timeout, rdap_server=rdap_server)
        if growth:
            return _growth(cfg, net, tuple(endpoint or ()), fmt, output, quiet)
        planned = plan(cfg, only=tuple(endpoint or ()), urls=tuple(url or ()))
        settings = settings_for(
            cfg, rate=rate, duration_s=duration, warmup_s=warmup, timeout_s=timeout, workers=workers
        )
        # Worker processes report when they are done, not while they run.
        live = not quiet and sys.stderr.isatty() and settings.workers == 1
        if not quiet:
            print(
                f"launchready: loading {len(planned)} endpoint(s) at {settings.rate:g} req/s for "
                f"{settings.warmup_s:g}+{settings.duration_s:g} s"
                + (f" over {settings.workers} processes" if settings.workers > 1 else ""),
                file=sys.stderr,
            )

        async def logged_in_load() -> LoadResult:
            logins = await log_in_for(planned, net)
            if logins and not quiet:
                print(f"launchready: logged in with smoke flow(s) {', '.join(sorted(logins))}", file=sys.stderr)
            return await measure(
                planned, net, settings, progress=_progress_line(sys.stderr) if live else None, logins=logins
            )

        try:
            result = asyncio.run(logged_in_load())
        except LoginFailed as exc:
            # Not a usage error: the product's login is broken, which fails the run like a finding.
            print(f"launchready: {exc}", file=sys.stderr)
            return 1
        except WorkerFailed as exc:
            print(f"launchready: load not measured: {exc}", file=sys.stderr)
            return 1
        if live:
            sys.stderr.write("\n")
        findings = load_check.judge(result, planned)
        if fmt is LoadFormat.JSON:
            _write(report.render_json(result, planned, findings), output)
        elif fmt is LoadFormat.MD:
            _write(report.render_markdown(result, planned, findings), output)
        elif fmt is LoadFormat.HTML:
            _write(report.render_html(result, planned, findings), output)
        elif output is not None:
            with (
                common.open_output(output) as fh,
                visible_controls(Console(file=fh, width=110, force_terminal=False)) as out,
            ):
                report.render_terminal(result, planned, findings, out)
        else:
            console = (
                Console(width=110) if sys.stdout.isatty() else Console(file=sys.stdout, width=110, force_terminal=False)
            )
            # Error texts and headers come from the loaded server: control characters shown, not sent.
            with visible_controls(console) as out:
                report.render_terminal(result, planned, findings, out)
        return exit_code(findings)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror or exc}") from None


def _growth(
    cfg: Config, net: NetSettings, only: tuple[str, ...], fmt: LoadFormat, output: Path | None, quiet: bool
) -> int:
    import asyncio

    from launchready.checks.perf import growth as growth_check
    from launchready.perf import report
    from launchready.perf.auth import LoginFailed
    from launchready.perf.growth import SeedFailed, run_growth
    from launchready.perf.plan import plan
    from launchready.perf.session import settings_for
    from launchready.report.controls import visible

    g = cfg.perf.growth
    if g.seed is None:
        raise UsageError(f"perf.growth.seed: set the command that seeds {{n}} {g.unit} to run the growth test")
    planned = plan(cfg, only=only or g.endpoints)
    settings = settings_for(
        cfg, rate=g.rate, duration_s=g.duration_s, warmup_s=min(cfg.perf.warmup_s, 1.0), timeout_s=net.timeout
    )
    if not quiet:
        print(
            f"launchready: growth test of {len(planned)} endpoint(s) at sizes {', '.join(map(str, g.sizes))}",
            file=sys.stderr,
        )
    started = datetime.now(UTC)
    try:
        series = asyncio.run(
            run_growth(
                planned,
                net,
                g.seed,
                g.sizes,
                settings,
                seed_timeout=g.seed_timeout,
                unit=g.unit,
                progress=None if quiet else lambda line: print(f"launchready: {line}", file=sys.stderr, flush=True),
            )
        )
    except SeedFailed as exc:
        raise UsageError(f"perf.growth.seed: {exc}") from None
    except LoginFailed as exc:
        print(f"launchready: {exc}", file=sys.stderr)
        return 1
    # An endpoint without a successful response at a size cannot be compared (the judge would say
    # "could not run"): the report names it with its errors and statuses, and the run fails.
    comparable = [s for s in series if all(p.ok for p in s.points)]
    findings = growth_check.judge(comparable, g.max_factor, g.unit)
    growth_run = report.GrowthRun(series, findings, g.max_factor, g.unit, settings=settings, started=started)
    if fmt is LoadFormat.JSON:
        text = json.dumps(report.growth_dict(growth_run), indent=2) + "\n"
    elif fmt is LoadFormat.HTML:
        text = report.render_growth_html(growth_run)
    elif fmt is LoadFormat.MD:
        text = report.render_growth_markdown(growth_run)
    else:
        text = visible(report.growth_text(growth_run))
    _write(text, output)
    return 1 if report.growth_failures(series, g.unit) else exit_code(findings)
