"""`launchready logs cluster` (offline template mining) and `launchready logs tail` (into error groups)."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from launchready.cli.errors import UsageError
from launchready.cli.errors_cmd import StoreOpt, open_engine
from launchready.intake.errors import IntakeError

# The intake's modules (drain3, SQLAlchemy, the scrubber) load inside each command, so the CLI
# starts without them.


class ClusterFormat(str, Enum):
    JSONL = "jsonl"
    TEXT = "text"


def _read_lines(path: str) -> Iterator[str]:
    if path == "-":
        for raw in sys.stdin.buffer:
            yield raw.decode("utf-8", "replace")
        return
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                yield raw.decode("utf-8", "replace")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


def build() -> typer.Typer:
    logs = typer.Typer(
        help="Cluster log lines into templates; feed error-level lines into error groups.", no_args_is_help=True
    )

    @logs.command("cluster")
    def cluster_cmd(
        file: Annotated[str, typer.Argument(metavar="FILE|-", help="A log file, or '-' for stdin.")],
        fmt: Annotated[
            ClusterFormat, typer.Option("--format", "-f", help="jsonl (one object per line) or text.")
        ] = ClusterFormat.JSONL,
        plain: Annotated[
            bool, typer.Option("--plain", help="Plain drain3, without masking ids/numbers/addresses first.")
        ] = False,
        sim_th: Annotated[
            float | None,
            typer.Option(
                "--similarity", min=0.0, max=1.0, help="drain3 similarity threshold (default 0.5; 0.4 with --plain)."
            ),
        ] = None,
    ) -> None:
        """Cluster every line of FILE offline; prints {"line", "template_id", "template"} per input line."""
        from launchready.intake.logs import LogClusterer, cluster_lines
        from launchready.report.controls import json_visible, visible

        results = cluster_lines(
            _read_lines(file),
            LogClusterer(premask=not plain, sim_th=sim_th if sim_th is not None else (0.4 if plain else 0.5)),
        )
        out = sys.stdout
        if fmt is ClusterFormat.JSONL:
            for item in results:
                out.write(json_visible(json.dumps(item, ensure_ascii=False)) + "\n")
            return
        counts: dict[str, tuple[int, str]] = {}
        for item in results:
            n, _ = counts.get(item["template_id"], (0, item["template"]))
            counts[item["template_id"]] = (n + 1, item["template"])
        for template_id, (n, template) in sorted(counts.items(), key=lambda kv: -kv[1][0]):
            out.write(visible(f"{n:>8}  {template_id}  {template}") + "\n")  # log lines: shown, not obeyed

    @logs.command("tail")
    def tail_cmd(
        files: Annotated[
            list[str], typer.Argument(metavar="FILE...|-", help="Log files to follow (rotation too), or '-' for stdin.")
        ],
        project: Annotated[str, typer.Option("--project", help="The error-intake project the groups belong to.")],
        from_start: Annotated[
            bool, typer.Option("--from-start", help="Read what the files hold already, then follow.")
        ] = False,
        once: Annotated[
            bool, typer.Option("--once", help="Read what is there now and exit instead of following.")
        ] = False,
        store: StoreOpt = None,
    ) -> None:
        """Follow log files; error-level lines are clustered into templates, each template a group."""
        from launchready.intake.ingest import Work, write_work_retrying
        from launchready.intake.logs import FileFollower, LogGrouper, record_from_line
        from launchready.intake.projects import project_named
        from launchready.intake.scrub import Scrubber
        from launchready.intake.settings import IntakeSettings

        engine = open_engine(store)
        try:
            with engine.connect() as conn:
                target = project_named(conn, project)
        except IntakeError as exc:
            engine.dispose()
            raise UsageError(str(exc)) from None
        grouper = LogGrouper(Scrubber())
        settings = IntakeSettings()
        totals = {"lines": 0, "errors": 0, "new_groups": 0}

        def feed(lines: Iterable[str]) -> None:
            records = [record_from_line(line) for line in lines]
            totals["lines"] += len(records)
            events = grouper.prepare(target.id, records, time.time())
            if not events:
                return
            changes = write_work_retrying(engine, [Work(events=events)], settings)
            totals["errors"] += len(events)
            for change in changes:
                if change.alert == "new":
                    totals["new_groups"] += 1
                    print(f"new group {change.group_id}: {change.title}", file=sys.stderr)

        stop = {"now": False}

        def _stop(*_: object) -> None:
            stop["now"] = True

        try:
            if files == ["-"]:
                batch: list[str] = []
                for line in _read_lines("-"):
                    batch.append(line)
                    if len(batch) >= 500:
                        feed(batch)
                        batch = []
                feed(batch)
            else:
                missing = [f for f in files if not Path(f).exists()]
                if missing:
                    raise UsageError(f"{missing[0]}: no such file")
                follower = FileFollower([Path(f) for f in files], from_start=from_start or once)
                if once:
                    feed(line for _, line in follower.poll())
                else:
                    signal.signal(signal.SIGTERM, _stop)
                    signal.signal(signal.SIGINT, _stop)
                    follower.follow(lambda lines: feed(line for _, line in lines), lambda: stop["now"])
        finally:
            engine.dispose()
        print(f"{totals['lines']} lines read, {totals['errors']} at error level, {totals['new_groups']} new groups")

    return logs
