"""What a smoke run found: per step and per flow, already masked, ready for every reporter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from launchready.core.severity import Impact, Severity


@dataclass(frozen=True)
class StepResult:
    name: str
    kind: str
    where: str  # file:line of the step
    passed: bool
    duration_ms: float
    request: str  # "POST https://app.example.com/signup" (masked)
    status: int | None = None
    attempts: int = 1
    failure: str | None = None  # what was expected and what came instead (masked)
    # On failure only: the request as sent and an excerpt of what came back (masked).
    request_detail: tuple[str, ...] = ()
    response_excerpt: str | None = None
    skipped: bool = False  # never ran because an earlier step failed
    origin: str = ""  # the flow the step is written in (another flow for included steps)


@dataclass(frozen=True)
class FlowResult:
    name: str
    where: str
    severity: Severity
    impact: Impact
    passed: bool
    duration_ms: float
    steps: tuple[StepResult, ...] = ()
    error: str | None = None  # the flow could not run to the end for a reason outside a step
    description: str = ""

    @property
    def failed_step(self) -> StepResult | None:
        for step in self.steps:
            if not step.passed and not step.skipped:
                return step
        return None

    @property
    def reason(self) -> str:
        step = self.failed_step
        if step is not None:
            return f"step '{step.name}' ({step.where}): {step.failure}"
        return self.error or "failed"


@dataclass(frozen=True)
class SmokeRun:
    environment: str
    base_url: str
    started: datetime
    finished: datetime
    flows: tuple[FlowResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.flows)

    @property
    def failed(self) -> tuple[FlowResult, ...]:
        return tuple(f for f in self.flows if not f.passed)

    @property
    def duration_ms(self) -> float:
        return round((self.finished - self.started).total_seconds() * 1000, 1)
