"""The deploy gate: deploy, verify (health, then smoke flows), roll back and re-verify on failure.

Outcomes: ``succeeded``; ``command-failed`` (the deploy command exited non-zero: nothing is
verified or rolled back, the platform normally keeps the old release); ``smoke-failed``
(verification failed and no rollback is declared); ``rolled-back`` (verification failed, the
rollback ran and the flows pass again); ``rollback-failed`` (the rollback command failed, or the
flows still fail after it). Every deploy is recorded and announced at start and finish.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from launchready.config.model import Config
from launchready.config.sections.smoke import DeploySettings
from launchready.core.net import NetSettings
from launchready.deploy.command import current_version, deployer, resolvable, run_streamed
from launchready.deploy.errors import DeployError
from launchready.deploy.notify import Delivery, DeployEvent, Notifier, describe
from launchready.deploy.store import DeployStore
from launchready.history.errors import HistoryError
from launchready.smoke.http import FlowHttp
from launchready.smoke.plan import SmokePlan, declares_flows, execute, plan_smoke, smoke_env
from launchready.smoke.results import SmokeRun
from launchready.smoke.secrets import Masker

HEALTH_POLL_SECONDS = 1.0


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

    # -- what will happen ---------------------------------------------------------------------------

    def plan_text(self, command: Sequence[str] | None) -> str:
        rollback = self.settings.rollback
        lines = [
            f"deploy plan for {self.environment} (dry run: nothing is run, recorded or sent)",
            f"  1. record the deploy in {self.base_dir / '.launchready' / 'history.sqlite'}",
            f"  2. notify deploy.started: {self._targets_text()}",
            f"  3. run: {self.masker.text(shlex.join(command)) if command else '(no deploy command given)'}",
            f"  4. wait up to {self.settings.health_timeout:g}s for {self.masker.text(self.health_url)} to answer 2xx",
            f"  5. run smoke flows: {self._flows_text()}",
            f"  6. on failure: {'run ' + self.masker.text(rollback) + ', wait for health, run the flows again' if rollback else 'no rollback command declared ([smoke.deploy.' + self.environment + '] rollback)'}",
            f"  7. notify deploy.finished with the outcome: {self._targets_text()}",
        ]
        return "\n".join(lines) + "\n"

    def _targets_text(self) -> str:
        return ", ".join(describe(t, self.masker) for t in self.notifier.targets) or "no notification targets"

    def _flows_text(self) -> str:
        return ", ".join(f.name for f in self.plan.flows) if self.plan is not None else "none declared"

    # -- actions --------------------------------------------------------------------------------------

    def deploy(self, command: Sequence[str]) -> GateResult:
        if not command:
            raise DeployError("no deploy command: give it after `--` or set [smoke.deploy.ENV] command")
        result = self._begin("deploy", shlex.join(command))
        self._notify(result, DeployEvent("deploy.started", self.environment, result.version, result.who))
        self._say(f"deploying {self.environment}: {self.masker.text(shlex.join(command))}")
        code = run_streamed(command, self.out, self.masker, cwd=self.base_dir)
        if code != 0:
            result.phases.append(
                Phase("deploy command", False, f"exited with {code}; nothing verified, no rollback run")
            )
            return self._end(result, "command-failed")
        result.phases.append(Phase("deploy command", True, "exited with 0"))
        if self._verify(result, "after deploy"):
            return self._end(result, "succeeded")
        if not self.settings.rollback:
            result.phases.append(
                Phase("rollback", False, f"no rollback command declared ([smoke.deploy.{self.environment}] rollback)")
            )
            return self._end(result, "smoke-failed")
        return self._end(result, self._roll_back(result))

    def rollback(self) -> GateResult:
        if not self.settings.rollback:
            raise DeployError(f"no rollback command declared: set rollback under [smoke.deploy.{self.environment}]")
        result = self._begin("rollback", self.settings.rollback)
        self._notify(result, DeployEvent("rollback.started", self.environment, result.version, result.who))
        outcome = self._roll_back(result)
        return self._end(result, "rolled-back-on-request" if outcome == "rolled-back" else outcome)

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
            code = run_streamed(split_command(self.settings.rollback_check), self.out, self.masker, cwd=self.base_dir)
            result.phases.append(Phase("rollback check command", code == 0, f"exited with {code}"))
        else:
            result.phases.append(
                Phase("rollback check command", True, "none declared (rollback_check); the command itself was not run")
            )
        self._verify(result, "now")
        problems = self.notifier.problems()
        if not self.notifier.targets:
            targets_detail = "none: nobody would hear about a failed deploy"
        else:
            targets_detail = "; ".join(problems) if problems else self._targets_text()
        result.phases.append(
            Phase("notification targets", bool(self.notifier.targets) and not problems, targets_detail)
        )
        result.outcome = "checked" if all(p.ok for p in result.phases) else "check-failed"
        return result

    # -- internals ------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _begin(self, action: str, command: str) -> GateResult:
        result = GateResult(action, self.environment, current_version(self.base_dir), deployer(self.env, self.base_dir))
        if self.record:
            try:
                store = DeployStore(self.base_dir)
                try:
                    result.deploy_id = store.start(
                        self.environment, result.version, result.who, self.masker.text(command)
                    )
                finally:
                    store.close()
            except HistoryError as exc:
                self._say(f"launchready: warning: deploy not recorded: {exc}")
        return result

    def _end(self, result: GateResult, outcome: str) -> GateResult:
        result.outcome = outcome
        summary = [f"{p.name}: {'ok' if p.ok else 'FAILED'}: {p.detail}" for p in result.phases]
        for label, run in result.smoke_runs:
            summary += [f"[{label}] flow {f.name}: {'ok' if f.passed else 'FAILED: ' + f.reason}" for f in run.flows]
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

    def _roll_back(self, result: GateResult) -> str:
        assert self.settings.rollback is not None
        self._say(f"rolling back {self.environment}: {self.masker.text(self.settings.rollback)}")
        code = run_streamed(split_command(self.settings.rollback), self.out, self.masker, cwd=self.base_dir)
        if code != 0:
            result.phases.append(Phase("rollback command", False, f"exited with {code}"))
            return "rollback-failed"
        result.phases.append(Phase("rollback command", True, "exited with 0"))
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
        http = FlowHttp(self.net)
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
