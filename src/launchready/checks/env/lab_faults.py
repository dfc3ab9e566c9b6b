"""Lab faults that make the env.* checks fire (the deploy exports built by lab/repo.py)."""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "env-production-missing-var",
        "production's environment lacks POSTMARK_TOKEN, which the email flow needs",
        each("env.contract.flow-variable-missing", "production:POSTMARK_TOKEN"),
    ),
)
