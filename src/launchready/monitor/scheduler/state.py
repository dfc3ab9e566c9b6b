"""The per-check state machine (pure): new / up / down / paused, with flip thresholds.

``failures_before_down`` consecutive failures take a check down, ``successes_before_up``
consecutive passes take it up. A check starts ``new``: its first verdict is a flip too
(new -> up is recorded for the dashboard but never alerts; new -> down alerts, the target is
down right from the start). Paused checks never run, so they never move here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from launchready.monitor.store.repository import CheckState


@dataclass(frozen=True)
class Transition:
    old_state: str
    new_state: str
    reason: str | None

    @property
    def alerts(self) -> bool:
        """Whether the flip is worth telling someone: everything but a new check coming up."""
        return not (self.old_state == "new" and self.new_state == "up")


def advance(
    state: CheckState,
    *,
    ok: bool,
    at: float,
    reason: str | None,
    failures_before_down: int,
    successes_before_up: int,
) -> tuple[CheckState, Transition | None]:
    """The state after one result, and the flip it caused (None when the state stays)."""
    if state.state == "paused":
        return state, None
    if ok:
        successes, failures = state.consecutive_successes + 1, 0
    else:
        successes, failures = 0, state.consecutive_failures + 1
    updated = replace(
        state,
        consecutive_successes=successes,
        consecutive_failures=failures,
        last_result_at=at,
        last_reason=None if ok else reason,
    )
    target: str | None = None
    if ok and state.state != "up" and successes >= successes_before_up:
        target = "up"
    elif not ok and state.state != "down" and failures >= failures_before_down:
        target = "down"
    if target is None:
        return updated, None
    transition = Transition(state.state, target, None if ok else reason)
    return replace(updated, state=target, state_since=at), transition
