"""Progress while checks run: a rich bar on a TTY, plain lines otherwise, nothing when quiet.

Progress always goes to stderr so stdout carries only the report.
"""

from __future__ import annotations

from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from launchready.core.finding import CheckResult, Status


class ProgressSink(Protocol):
    def phase(self, text: str) -> None: ...
    def start(self, total: int) -> None: ...
    def advance(self, result: CheckResult) -> None: ...
    def finish(self) -> None: ...


class NullProgress:
    def phase(self, text: str) -> None:
        pass

    def start(self, total: int) -> None:
        pass

    def advance(self, result: CheckResult) -> None:
        pass

    def finish(self) -> None:
        pass


_MARK = {Status.PASSED: "ok", Status.FAILED: "FAIL", Status.ERROR: "NOT RUN", Status.SKIPPED: "skip"}


class PlainProgress:
    """One line per finished check: readable in CI logs, greppable."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._done = 0
        self._total = 0

    def phase(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def start(self, total: int) -> None:
        self._total = total

    def advance(self, result: CheckResult) -> None:
        self._done += 1
        detail = f" ({result.reason})" if result.reason and result.status is Status.ERROR else ""
        print(
            f"[{self._done}/{self._total}] {_MARK[result.status]:7} {result.check_id} {result.target}{detail}",
            file=self._stream,
            flush=True,
        )

    def finish(self) -> None:
        pass


class RichProgress:
    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def phase(self, text: str) -> None:
        self._console.print(f"[dim]{text}[/dim]")

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("checks", total=total)

    def advance(self, result: CheckResult) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=1, description=result.check_id)

    def finish(self) -> None:
        self._progress.stop()


def make_progress(stream: TextIO, *, quiet: bool) -> ProgressSink:
    if quiet:
        return NullProgress()
    console = Console(file=stream)
    if console.is_terminal:
        return RichProgress(console)
    return PlainProgress(stream)
