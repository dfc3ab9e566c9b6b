"""What a lab fault is: a switch that breaks the lab the way a real launch breaks, and what it trips.

A check's folder declares the faults that make it fire (``checks/<area>/lab_faults.py``, a
module-level ``LAB_FAULTS``); the lab collects them through :func:`launchready.core.registry.
load_lab_faults` and the tests derive their cross-checks from them: every check has a fault,
every fault is caught by its check with exactly the declared (finding, target) pairs, and the
clean lab is clean. The product never reads these declarations; only the lab and its tests do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Target templates: "{domain}" is the lab's domain; "{asset}" stands for each of the lab site's
# static asset paths (content-hashed names the declaration cannot know in advance).
LAB_WEB_HOSTS: tuple[str, ...] = ("{domain}", "www.{domain}", "app.{domain}", "admin.{domain}", "api.{domain}")


def each(finding_id: str, *targets: str) -> tuple[tuple[str, str], ...]:
    """``(finding_id, target)`` for every target: the shape of :attr:`LabFault.caught`."""
    return tuple((finding_id, target) for target in targets)


@dataclass(frozen=True)
class LabFault:
    name: str
    description: str
    # Every (finding id, target template) the fault's check reports when this fault alone is on.
    caught: tuple[tuple[str, str], ...]
    # launchready.toml tables the fault's lab test merges over the lab's own configuration, for
    # checks that run only when the configuration opts in (``{"perf": {...}}``: load tests).
    lab_config: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Keyword arguments the fault's lab test passes to ``Lab(...)`` (a shorter delay than the real
    # fault's, so the test stays fast: ``{"invite_delay_s": 5.0}``).
    lab_settings: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def triggers(self) -> tuple[str, ...]:
        """The finding ids this fault is meant to trigger, in declaration order."""
        return tuple(dict.fromkeys(finding_id for finding_id, _ in self.caught))


@dataclass(frozen=True)
class MonitorLabFault:
    """A lab fault the monitor catches rather than an audit check: the lab misbehaves over time.

    Declared beside the monitor (``monitor/lab_faults.py``) and collected by ``lab/faults.py``
    with the checks' faults. ``flips`` lists every ``(subject kind, subject name, new state)``
    `monitor serve` records while watching the lab (its own ``[monitor]`` table) with this fault on.
    """

    name: str
    description: str
    flips: tuple[tuple[str, str, str], ...]
