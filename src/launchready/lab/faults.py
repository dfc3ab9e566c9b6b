"""The lab's fault switches: each one breaks the lab the way a real launch breaks.

Each check's folder declares the faults that make it fire (``checks/<area>/lab_faults.py``);
this module collects them, so every audit check has a fault whose lab test sees it caught and,
with the fault off, sees it clean. The monitor declares the faults it catches over time
(``monitor/lab_faults.py``: a cron job that stops, a flaky health route); :func:`monitor_faults`
collects those, kept apart from :func:`faults` because no audit finding goes with them. ``launchready lab up --faults a,b`` and ``Lab(faults=...)``
take these names.
"""

from __future__ import annotations

from functools import cache

from launchready.core.labfault import LabFault, MonitorLabFault
from launchready.lab.errors import LabError

LAB_DOMAIN = "marketlab.test"


@cache
def faults() -> tuple[LabFault, ...]:
    """Every fault switch: collected from the checks' folders (``checks/<area>/lab_faults.py``).

    Loaded on first use, not at import: the lab's DNS and web modules import this module for
    ``LAB_DOMAIN`` and should not pull in every check.
    """
    from launchready.core.registry import load_lab_faults

    return load_lab_faults()


# What `launchready demo` switches on: the mix a real week-before-launch MVP tends to have.
DEMO_FAULTS: tuple[str, ...] = (
    "public-cache-private-page",
    "cert-expired",
    "http-no-redirect",
    "no-hsts",
    "dmarc-missing",
    "spf-plus-all",
    "dangling-cname",
    "verification-email-missing",
    "email-reset-link-localhost",
    "repo-secret-in-history",
)


@cache
def monitor_faults() -> tuple[MonitorLabFault, ...]:
    """The faults `monitor serve` catches over time (declared in ``monitor/lab_faults.py``)."""
    from launchready.monitor.lab_faults import LAB_FAULTS

    audit_names = {f.name for f in faults()}
    for fault in LAB_FAULTS:
        if fault.name in audit_names:
            raise LabError(f"monitor lab fault {fault.name!r} is also declared by a check folder")
    return LAB_FAULTS


def fault_names() -> tuple[str, ...]:
    """Every switch the lab takes: the checks' faults, then the monitor's."""
    return tuple(f.name for f in faults()) + tuple(f.name for f in monitor_faults())


def parse_faults(text: str | None) -> frozenset[str]:
    """Parse ``a,b,c`` (or ``all``/``none``); unknown names raise LabError naming them."""
    if not text or text.strip() in ("", "none"):
        return frozenset()
    if text.strip() == "all":
        return frozenset(fault_names())
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names - set(fault_names()))
    if unknown:
        raise LabError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(fault_names())}")
    return frozenset(names)
