"""The lab faults the monitor catches: misbehaviour over time, which no one-shot audit sees.

``lab/faults.py`` collects these beside the audit checks' faults (``checks/<area>/lab_faults.py``);
the lab implements them (``lab/monitor_lab.py``, ``lab/error_reporting.py``) and
``tests/test_monitor_lab.py`` / ``tests/test_lab_errors.py`` run `monitor serve` against a lab with
each one on and see the declared flips happen.
"""

from __future__ import annotations

from launchready.core.labfault import MonitorLabFault

LAB_FAULTS: tuple[MonitorLabFault, ...] = (
    MonitorLabFault(
        "heartbeat-stops",
        "the lab's cron job pings its heartbeat a few times, then never again",
        flips=(("heartbeat", "lab-cron", "up"), ("heartbeat", "lab-cron", "down")),
    ),
    MonitorLabFault(
        "health-flaky",
        "the production health route fails now and then: once alone, then twice in a row, over and over",
        flips=(("check", "production-health", "up"), ("check", "production-health", "down")),
    ),
    MonitorLabFault(
        "new-error-after-deploy",
        "the release deployed after the first one breaks the member directory API (KeyError), which the app "
        "reports with sentry-sdk: a new error group after the deploy marker",
        flips=(("error", "KeyError: 'joined_at'", "new"),),
    ),
)
