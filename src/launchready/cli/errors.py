"""The one place where errors become what the user sees: a one-line message and an exit code.

Library code raises its subsystem's error root with a one-line message naming the file:line, key
or flag; it never decides how that is shown or how the process ends. ``EXIT_CODES`` maps each root
to its exit code; ``main`` prints ``launchready: error: MESSAGE`` on stderr (no traceback) and exits
with it. An exception not in the table is a bug and keeps its traceback.

The roots are small modules with no heavy imports, so importing this table costs nothing at start.
"""

from __future__ import annotations

from launchready.config.errors import ConfigError
from launchready.core.net import NetFlagError
from launchready.deploy.errors import DeployError
from launchready.engine.errors import AuditError
from launchready.engine.target import TargetError
from launchready.history.errors import HistoryError
from launchready.intake.errors import IntakeError
from launchready.lab.errors import LabError
from launchready.mailtest.errors import MailtestError
from launchready.monitor.errors import MonitorError
from launchready.perf.errors import PerfError
from launchready.report.errors import ReportError
from launchready.secrets.errors import SecretsError
from launchready.smoke.errors import SmokeError

EXIT_USAGE = 2


class UsageError(Exception):
    """A command line that cannot run as given (conflicting options, an unwritable --output, ...).

    Raised by the commands in this package only; library code raises its own subsystem's root.
    """


EXIT_CODES: dict[type[Exception], int] = {
    UsageError: EXIT_USAGE,
    ConfigError: EXIT_USAGE,
    NetFlagError: EXIT_USAGE,
    TargetError: EXIT_USAGE,
    AuditError: EXIT_USAGE,
    SecretsError: EXIT_USAGE,
    SmokeError: EXIT_USAGE,
    PerfError: EXIT_USAGE,
    DeployError: EXIT_USAGE,
    HistoryError: EXIT_USAGE,
    LabError: EXIT_USAGE,
    MonitorError: EXIT_USAGE,
    IntakeError: EXIT_USAGE,
    ReportError: EXIT_USAGE,
    MailtestError: EXIT_USAGE,
}

# For ``except KNOWN_ERRORS``: every class the table maps.
KNOWN_ERRORS: tuple[type[Exception], ...] = tuple(EXIT_CODES)


def exit_code(exc: BaseException) -> int | None:
    """The exit code for ``exc`` (its nearest class in the table), None when it is not a known error."""
    for cls in type(exc).__mro__:
        code = EXIT_CODES.get(cls)
        if code is not None:
            return code
    return None


def one_line(exc: BaseException) -> str:
    """The message as one line: a value quoted from a file must not break the line the user reads,
    nor (a file name with ESC or a right-to-left override in it) command the terminal."""
    from launchready.report.controls import visible

    return visible(" ".join(str(exc).split())) or type(exc).__name__
