"""The deploy gate: deploy, verify (health, then smoke flows), roll back and re-verify on failure.

Outcomes: ``succeeded``; ``command-failed`` (the deploy command exited non-zero: nothing is
verified or rolled back, the platform normally keeps the old release); ``smoke-failed``
(verification failed and no rollback is declared); ``rolled-back`` (verification failed, the
rollback ran and the flows pass again); ``rollback-failed`` (the rollback command failed, or the
flows still fail after it); ``timed-out`` (the deploy command ran past ``timeout``: its process
group was stopped and the rollback, if declared, ran); ``cancelled`` (launchready got SIGINT or
SIGTERM: the signal went to the command's process group, the outcome was recorded and announced,
and the CLI exits 128 + the signal); ``errored`` (the gate itself failed: recorded, announced,
and the error goes on to the CLI); ``abandoned`` (a ``running`` record whose run was killed
before it recorded anything, found by the next run holding the environment's lock). Every deploy
is recorded and announced at start and finish.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from launchready.config.model import Config
from launchready.config.sections.smoke import DeploySettings
from launchready.core.net import NetSettings, declared_hosts
from launchready.deploy.command import CommandResult, current_version, deployer, resolvable, run_command
from launchready.deploy.errors import DeployError
from launchready.deploy.lock import DeployLocked, EnvironmentLock
from launchready.deploy.notify import Delivery, DeployEvent, Notifier, describe
from launchready.deploy.store import DeployStore
from launchready.history.errors import HistoryError
from launchready.smoke.http import FlowHttp
from launchready.smoke.plan import SmokePlan, declares_flows, execute, plan_smoke, smoke_env
from launchready.smoke.results import SmokeRun
from launchready.smoke.secrets import Masker

HEALTH_POLL_SECONDS = 1.0
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

__all__ = ["DeployGate", "DeployLocked", "GateCancelled", "GateResult", "Phase", "split_command"]


class GateCancelled(KeyboardInterrupt):
    """launchready got SIGINT/SIGTERM outside a command (a command's own wait forwards it instead).

    A KeyboardInterrupt so that asyncio (health wait, smoke flows) lets it through unchanged.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _SignalState:
    """What the handlers saw. Inside a command or while the outcome is being recorded a signal is
    only noted (the command loop forwards it; the record must be written); elsewhere it interrupts."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.received = 0  # a second signal cuts a stopping command's grace period short
        self.in_command = False
        self.finishing = False

    def handle(self, signum: int, frame: object) -> None:
        self.received += 1
        if self.signum is None:
            self.signum = signum
        if not self.in_command and not self.finishing:
            raise GateCancelled(signum)

    def requested(self) -> int | None:
        return self.signum


@dataclass(frozen=True)
class Phase:
    name: str
    ok: bool
    detail: str


@dataclass
class GateResult:
    action: str  # deploy, rollback, rollback-check
    environment: str
    version: str
    who: str
    outcome: str = "running"
    phases: list[Phase] = field(default_factory=list)
    smoke_runs: list[tuple[str, SmokeRun]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    deploy_id: int | None = None
    signal: int | None = None  # the signal that cancelled the run
    standing: str | None = None  # where the environment stands after a cancel, one line

    @property
    def exit_code(self) -> int:
        if self.signal is not None:
            return 128 + self.signal
        return 0 if self.ok else 1

    @property
    def ok(self) -> bool:
        return self.outcome in ("succeeded", "checked", "rolled-back-on-request")

    def render(self) -> str:
        lines = [f"{self.action} {self.environment} {self.version} by {self.who}: {self.outcome.upper()}"]
        for phase in self.phases:
            lines.append(f"  {'ok  ' if phase.ok else 'FAIL'} {phase.name}: {phase.detail}")
        for label, run in self.smoke_runs:
            for flow in run.flows:
                mark = "ok  " if flow.passed else "FAIL"
                reason = "" if flow.passed else f" — {flow.reason}"
                lines.append(f"       [{label}] {mark} flow {flow.name}{reason}")
        for delivery in self.deliveries:
            lines.append(f"  notified {delivery.target}: {'ok' if delivery.ok else 'FAILED ' + (delivery.error or '')}")
        if self.standing:
            lines.append(f"  {self.standing}")
        if self.deploy_id is not None:
            lines.append(f"  recorded as deploy #{self.deploy_id}")
        return "\n".join(lines) + "\n"


def split_command(text: str) -> list[str]:
    return shlex.split(text)


class DeployGate:
    def __init__(
        self,
        config: Config,
        environment: str,
        net: NetSettings,
        *,
        base_dir: Path,
        out: TextIO,
        environ: Mapping[str, str] | None = None,
        record: bool = True,
    ) -> None:
        env_config = config.environments.get(environment)
        if env_config is None:
            known = ", ".join(sorted(config.environments)) or "none declared"
            raise DeployError(
                f"--env {environment}: no [environments.{environment}] in launchready.toml (known: {known})"
            )
        self.config = config
        self.environment = environment
        self.net = net
        self.base_dir = base_dir
        self.out = out
        self.settings: DeploySettings = config.smoke.deploy.get(environment, DeploySettings())
        self.health_url = str(env_config.base_url).rstrip("/") + env_config.health_path
        # Flow files, env and secrets are checked now: a broken flow file stops the deploy before it starts.
        self.plan: SmokePlan | None = (
            plan_smoke(config, environment, environ=environ) if declares_flows(config) else None
        )
        self.env = self.plan.env if self.plan is not None else smoke_env(config, environ)
        self.masker = self.plan.masker if self.plan is not None else Masker()
        self.notifier = Notifier(config.smoke.notify, self.env, net, self.masker)
        self.record = record
        self.lock = EnvironmentLock(base_dir, environment)
        self._stage = "started"  # how far the run got, for the line printed when it is cancelled
        self._stopped: CommandResult | None = None  # the command a cancel stopped
        self._rollback_timed_out = False

    # -- what will happen ---------------------------------------------------------------------------

    def plan_text(self, command: Sequence[str] | None) -> str:
        rollback = self.settings.rollback
        timeout = self.settings.timeout
        lines = [
            f"deploy plan for {self.environment} (dry run: nothing is run, recorded or sent)",
            f"  0. take the lock {self.lock.path}: {self._lock_text()}",
            f"  1. record the deploy in {self.base_dir / '.launchready' / 'history.sqlite'}",
            f"  2. notify deploy.started: {self._targets_text()}",
            f"  3. run: {self.masker.text(shlex.join(command)) if command else '(no deploy command given)'}"
            f" (stopped after {timeout:g}s: SIGTERM to its process group, SIGKILL {self.settings.kill_grace:g}s later)",
            f"  4. wait up to {self.settings.health_timeout:g}s for {self.masker.text(self.health_url)} to answer 2xx",
            f"  5. run smoke flows: {self._flows_text()}",
            f"  6. on failure or timeout: {'run ' + self.masker.text(rollback) + ', wait for health, run the flows again' if rollback else 'no rollback command declared ([smoke.deploy.' + self.environment + '] rollback)'}",
            f"  7. notify deploy.finished with the outcome: {self._targets_text()}",
        ]
        problems = self.notifier.problems()
        if not self.notifier.targets:
            lines.append("warning: no notification targets: nobody would hear about a failed deploy")
        for problem in problems:
            lines.append(f"warning: notification target {problem}")
        if self.notifier.targets:
            lines.append(
                "notifications were not sent (dry run); `launchready rollback --check` sends a test one to each target"
            )
        return "\n".join(lines) + "\n"

    def _lock_text(self) -> str:
        holder = self.lock.holder()
        return f"LOCKED now: {holder.describe()}" if holder else "free now"

    def _targets_text(self) -> str:
        return ", ".join(describe(t, self.masker) for t in self.notifier.targets) or "no notification targets"

    def _flows_text(self) -> str:
        return ", ".join(f.name for f in self.plan.flows) if self.plan is not None else "none declared"

    # -- actions --------------------------------------------------------------------------------------

    def deploy(self, command: Sequence[str], *, force: bool = False) -> GateResult:
        if not command:
            raise DeployError("no deploy command: give it after `--` or set [smoke.deploy.ENV] command")
        return self._guarded(
            "deploy", shlex.join(command), force, lambda result, state: self._deploy(result, command, state)
        )

    def rollback(self, *, force: bool = False) -> GateResult:
        if not self.settings.rollback:
            raise DeployError(f"no rollback command declared: set rollback under [smoke.deploy.{self.environment}]")
        return self._guarded("rollback", self.settings.rollback, force, self._rollback)

    def _deploy(self, result: GateResult, command: Sequence[str], state: _SignalState) -> str:
        self._stage = "started"
        self._notify(result, DeployEvent("deploy.started", self.environment, result.version, result.who))
        self._say(f"deploying {self.environment}: {self.masker.text(shlex.join(command))}")
        self._stage = "deploy-command"
        run = self._run(command, state)
        if run.timed_out:
            result.phases.append(Phase("deploy command", False, self._stopped_detail(run)))
            if self.settings.rollback:
                self._roll_back(result, state)
            else:
                result.phases.append(
                    Phase(
                        "rollback", False, f"no rollback command declared ([smoke.deploy.{self.environment}] rollback)"
                    )
                )
            return "timed-out"
        if run.code != 0:
            result.phases.append(
                Phase("deploy command", False, f"exited with {run.code}; nothing verified, no rollback run")
            )
            return "command-failed"
        result.phases.append(Phase("deploy command", True, "exited with 0"))
        self._stage = "verify-deploy"
        if self._verify(result, "after deploy"):
            return "succeeded"
        if not self.settings.rollback:
            result.phases.append(
                Phase("rollback", False, f"no rollback command declared ([smoke.deploy.{self.environment}] rollback)")
            )
            return "smoke-failed"
        return self._roll_back(result, state)

    def _rollback(self, result: GateResult, state: _SignalState) -> str:
        self._stage = "started"
        self._notify(result, DeployEvent("rollback.started", self.environment, result.version, result.who))
        outcome = self._roll_back(result, state)
        if outcome == "rolled-back":
            return "rolled-back-on-request"
        return "timed-out" if self._rollback_timed_out else outcome

    def check_rollback(self) -> GateResult:
        """Exercise the rollback path without rolling back: is it declared, runnable, and is the target good?"""
        result = GateResult(
            "rollback-check", self.environment, current_version(self.base_dir), deployer(self.env, self.base_dir)
        )
        rollback = self.settings.rollback
        if not rollback:
            result.phases.append(
                Phase("rollback declared", False, f"set rollback under [smoke.deploy.{self.environment}]")
            )
        else:
            argv = split_command(rollback)
            found = resolvable(argv, self.base_dir)
            result.phases.append(Phase("rollback declared", True, self.masker.text(rollback)))
            result.phases.append(
                Phase("rollback command found", found, argv[0] if found else f"{argv[0]} is not an executable on PATH")
            )
        if self.settings.rollback_check:
            self._say(f"running the rollback check: {self.masker.text(self.settings.rollback_check)}")
            run = run_command(
                split_command(self.settings.rollback_check),
                self.out,
                self.masker,
                cwd=self.base_dir,
                timeout=self.settings.timeout,
                grace=self.settings.kill_grace,
            )
            detail = self._stopped_detail(run) if run.timed_out else f"exited with {run.code}"
            result.phases.append(Phase("rollback check command", run.ok, detail))
        else:
            result.phases.append(
                Phase("rollback check command", True, "none declared (rollback_check); the command itself was not run")
            )
        self._verify(result, "now")
        if not self.notifier.targets:
            result.phases.append(Phase("notification targets", False, "none: nobody would hear about a failed deploy"))
        else:
            # Declared is not enough: every ${env:} is resolved and each target gets a real message.
            event = DeployEvent(
                "notify.test",
                self.environment,
                result.version,
                result.who,
                None,
                (f"launchready rollback --check for {self.environment}: this is a test; nothing was deployed.",),
            )
            deliveries = asyncio.run(self.notifier.send(event))
            result.deliveries.extend(deliveries)
            for delivery in deliveries:
                result.phases.append(
                    Phase(
                        f"test notification to {delivery.target}",
                        delivery.ok,
                        "delivered (marked as a test)" if delivery.ok else f"not delivered: {delivery.error}",
                    )
                )
        result.outcome = "checked" if all(p.ok for p in result.phases) else "check-failed"
        return result

    # -- internals ------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _guarded(
        self,
        action: str,
        command: str,
        force: bool,
        body: Callable[[GateResult, _SignalState], str],
    ) -> GateResult:
        """Lock the environment, record the start, run ``body`` with the signals handled, record the end."""
        result = GateResult(action, self.environment, current_version(self.base_dir), deployer(self.env, self.base_dir))
        self._stage, self._stopped, self._rollback_timed_out = "started", None, False
        try:
            self.lock.acquire(result.who, action, force=force)
        except OSError as exc:
            raise DeployError(f"{self.lock.path}: cannot take the deploy lock: {exc.strerror or exc}") from None
        try:
            if self.lock.previous is not None:
                self._say(
                    f"launchready: warning: the previous {self.lock.previous.describe()} ended without "
                    "releasing the lock (killed?)"
                )
            if self.lock.broken is not None:
                self._say(f"launchready: warning: --force: took the lock from {self.lock.broken.describe()}")
            with self._signals() as state:
                try:
                    self._record_start(result, command)
                    outcome = body(result, state)
                except GateCancelled as cancelled:
                    state.finishing = True
                    return self._cancelled(result, cancelled.signum)
                except Exception as exc:
                    # Never a `running` record left behind by a run that is still alive to fix it.
                    state.finishing = True
                    detail = self.masker.text(f"{type(exc).__name__}: {exc}")
                    result.phases.append(Phase("deploy gate", False, f"stopped by an error: {detail}"))
                    self._end(result, "errored")
                    raise
                state.finishing = True
                return self._end(result, outcome)
        finally:
            self.lock.release()

    @contextmanager
    def _signals(self) -> Iterator[_SignalState]:
        state = _SignalState()
        if threading.current_thread() is not threading.main_thread():
            yield state  # signal handlers can only be installed by the main thread
            return
        previous = {signum: signal.getsignal(signum) for signum in HANDLED_SIGNALS}
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, state.handle)
        try:
            yield state
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _run(self, argv: Sequence[str], state: _SignalState) -> CommandResult:
        state.in_command = True
        try:
            run = run_command(
                argv,
                self.out,
                self.masker,
                cwd=self.base_dir,
                timeout=self.settings.timeout,
                grace=self.settings.kill_grace,
                cancel_requested=state.requested,
                hurry=lambda: state.received > 1,
            )
        finally:
            state.in_command = False
        if run.cancelled is not None:
            self._stopped = run
            raise GateCancelled(run.cancelled)
        if state.signum is not None:  # arrived as the command exited
            raise GateCancelled(state.signum)
        return run

    def _stopped_detail(self, run: CommandResult) -> str:
        how = "SIGTERM, then SIGKILL" if run.killed else "SIGTERM"
        return f"ran past its {self.settings.timeout:g}s timeout; its process group was stopped ({how})"

    def _standing(self, action: str) -> str:
        env = self.environment
        rollback_hint = f"; check it, or run `launchready rollback --env {env}`" if self.settings.rollback else ""
        return {
            "started": f"{env} stays on the old release: the {action} command never ran; no rollback run",
            "deploy-command": (
                f"{env} may be partly deployed: the deploy command was stopped part-way; no rollback run{rollback_hint}"
            ),
            "verify-deploy": f"{env} is on the new release, not verified (cancelled during verification); no rollback run",
            "rollback-command": f"{env} is in an unknown state: the rollback command was stopped part-way",
            "verify-rollback": f"{env} is back on the old release (the rollback ran), not verified again",
        }.get(self._stage, f"{env}: state unknown")

    def _cancelled(self, result: GateResult, signum: int) -> GateResult:
        name = signal.Signals(signum).name
        result.signal = signum
        stopped = self._stopped
        if stopped is not None:
            how = f"{name}, then SIGKILL" if stopped.killed else name
            result.phases.append(Phase("command", False, f"cancelled: its process group got {how}"))
        result.standing = self._standing(result.action)
        self._say(f"launchready: cancelled by {name}: {result.standing}")
        return self._end(result, "cancelled")

    def _record_start(self, result: GateResult, command: str) -> None:
        if not self.record:
            return
        try:
            store = DeployStore(self.base_dir)
            try:
                for stale in store.abandon_running(self.environment):
                    self._say(f"launchready: deploy #{stale} was left running by a run that died: marked abandoned")
                result.deploy_id = store.start(self.environment, result.version, result.who, self.masker.text(command))
            finally:
                store.close()
        except HistoryError as exc:
            self._say(f"launchready: warning: deploy not recorded: {exc}")
        if result.action == "deploy" and self.config.monitor is not None:
            from launchready.monitor.markers import record_deploy_marker

            self._say(
                record_deploy_marker(
                    self.config.monitor,
                    self.base_dir,
                    environment=self.environment,
                    version=result.version,
                    who=result.who,
                    note=self.masker.text(command),
                )
            )

    def _end(self, result: GateResult, outcome: str) -> GateResult:
        result.outcome = outcome
        summary = [f"{p.name}: {'ok' if p.ok else 'FAILED'}: {p.detail}" for p in result.phases]
        for label, run in result.smoke_runs:
            summary += [f"[{label}] flow {f.name}: {'ok' if f.passed else 'FAILED: ' + f.reason}" for f in run.flows]
        if result.standing:
            summary.append(result.standing)
        event = "deploy.finished" if result.action == "deploy" else "rollback.finished"
        self._notify(result, DeployEvent(event, self.environment, result.version, result.who, outcome, tuple(summary)))
        if self.record and result.deploy_id is not None:
            try:
                store = DeployStore(self.base_dir)
                try:
                    store.finish(result.deploy_id, outcome, "\n".join(summary))
                finally:
                    store.close()
            except HistoryError as exc:
                self._say(f"launchready: warning: deploy outcome not recorded: {exc}")
        return result

    def _notify(self, result: GateResult, event: DeployEvent) -> None:
        deliveries = asyncio.run(self.notifier.send(event))
        result.deliveries.extend(deliveries)
        for delivery in deliveries:
            if not delivery.ok:
                self._say(f"launchready: warning: notification to {delivery.target} failed: {delivery.error}")

    def _roll_back(self, result: GateResult, state: _SignalState) -> str:
        assert self.settings.rollback is not None
        self._say(f"rolling back {self.environment}: {self.masker.text(self.settings.rollback)}")
        self._stage = "rollback-command"
        run = self._run(split_command(self.settings.rollback), state)
        if run.timed_out:
            self._rollback_timed_out = True
            result.phases.append(Phase("rollback command", False, self._stopped_detail(run)))
            return "rollback-failed"
        if run.code != 0:
            result.phases.append(Phase("rollback command", False, f"exited with {run.code}"))
            return "rollback-failed"
        result.phases.append(Phase("rollback command", True, "exited with 0"))
        self._stage = "verify-rollback"
        return "rolled-back" if self._verify(result, "after rollback") else "rollback-failed"

    def _verify(self, result: GateResult, label: str) -> bool:
        healthy, detail = asyncio.run(self._wait_healthy())
        result.phases.append(Phase(f"health {label}", healthy, detail))
        if not healthy:
            return False
        if self.plan is None:
            result.phases.append(Phase(f"smoke {label}", True, "no smoke flows declared"))
            return True
        self._say(f"running {len(self.plan.flows)} smoke flow(s) {label} ...")
        run = asyncio.run(execute(self.plan, self.net))
        result.smoke_runs.append((label, run))
        failed = [f.name for f in run.failed]
        detail = f"{len(run.flows)} flow(s) passed" if not failed else f"failed: {', '.join(failed)}"
        result.phases.append(Phase(f"smoke {label}", not failed, detail))
        return not failed

    async def _wait_healthy(self) -> tuple[bool, str]:
        # The health route may redirect within the declared hosts only (as app.health follows it).
        http = FlowHttp(
            self.net,
            redirect_hosts=declared_hosts(
                self.net, self.config.domain, [str(e.base_url) for e in self.config.environments.values()]
            ),
        )
        deadline = time.monotonic() + self.settings.health_timeout
        last = "no answer"
        shown = self.masker.text(self.health_url)
        try:
            async with http.session() as session:
                while True:
                    response = await http.send(session, "GET", self.health_url, follow_redirects=True)
                    if response.status is not None and 200 <= response.status < 300:
                        return True, f"{shown} answered {response.status}"
                    last = str(response.status) if response.status is not None else (response.error or "no answer")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return (
                            False,
                            f"{shown} did not answer 2xx within {self.settings.health_timeout:g}s (last: {self.masker.text(last)})",
                        )
                    await asyncio.sleep(min(HEALTH_POLL_SECONDS, remaining))
        finally:
            await http.close()
