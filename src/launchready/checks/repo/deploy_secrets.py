"""repo.deploy-secrets: Dockerfiles, compose files and CI configs take secrets from the platform, not literals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.masking import mask_secret
from launchready.core.severity import Impact, Severity
from launchready.secrets.detector import INLINE_ALLOW, Detector
from launchready.secrets.errors import SecretsError
from launchready.secrets.settings import detector_for

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_DOCKER_SECRETS = "https://docs.docker.com/build/building/secrets/"
_GHA_SECRETS = (
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions"
)
_COMPOSE_SECRETS = "https://docs.docker.com/compose/how-tos/use-secrets/"

_DEPLOY_FILE = re.compile(
    r"(?:^|/)(?:Dockerfile[^/]*|[^/]*\.dockerfile|(?:docker-)?compose[^/]*\.ya?ml|\.gitlab-ci\.ya?ml|"
    r"\.github/workflows/[^/]+\.ya?ml|\.circleci/config\.ya?ml|bitbucket-pipelines\.ya?ml|azure-pipelines\.ya?ml|"
    r"Jenkinsfile|fly\.toml|render\.ya?ml|netlify\.toml|app\.ya?ml|railway\.(?:json|toml)|Procfile)$",
    re.IGNORECASE,
)
_SECRET_NAME = r"[A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH_?KEY)[A-Za-z0-9_]*"
# Dockerfile `ENV NAME=value` / `ENV NAME value` / `ARG NAME=value`; YAML `NAME: value` or `- NAME=value`;
# TOML `NAME = "value"`.
_ASSIGNMENT = re.compile(
    r"^\s*(?:(?P<inst>ENV|ARG)\s+|-\s*)?[\"']?(?P<name>" + _SECRET_NAME + r")[\"']?\s*(?:=|:\s|\s(?=\S))\s*"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s#]+)",
    re.IGNORECASE,
)
# A value that points at the platform's secret store is the right way, not a finding.
_REFERENCE = re.compile(r"^(?:\$|\{\{|%|<|secrets\.|env\.|vault:|arn:|projects/|op://|/run/secrets/)", re.IGNORECASE)

META = CheckMeta(
    id="repo.deploy-secrets",
    title="Deploy files take secrets from the platform, not literals",
    scope=Scope.REPO,
    doc=CheckDoc(
        what=(
            "Reads Dockerfiles, docker compose files, CI configurations (GitHub Actions, GitLab CI, CircleCI, "
            "Bitbucket, Azure Pipelines, Jenkins) and hosting configs (fly.toml, render.yaml, netlify.toml, "
            "app.yaml) for variables named like secrets (…_SECRET, …_TOKEN, …_PASSWORD, …_API_KEY) that are given "
            "a literal value instead of a reference to the platform's secret store."
        ),
        why=(
            "A secret written into a Dockerfile is baked into every image layer and readable with `docker "
            "history`; one written into a CI or compose file is readable by everyone with access to the "
            "repository and is usually the same value production uses. Even a weak default like 'postgres' "
            "tends to ship to production unchanged."
        ),
        fix=(
            "Reference the platform's secret store instead: `${{ secrets.NAME }}` in GitHub Actions, masked CI/CD "
            "variables in GitLab, `secrets:` or `${NAME}` from an untracked .env in compose, `RUN "
            "--mount=type=secret,id=NAME` in Dockerfiles (never ENV/ARG), and `fly secrets set` / the dashboard "
            "for hosting configs. Rotate any value that was committed."
        ),
    ),
    findings=(
        FindingSpec(
            id="repo.deploy-secrets.hardcoded",
            title="A secret is written as a literal in a deploy or CI file",
            severity=Severity.HIGH,
            impact=Impact.DATA_EXPOSURE,
            remediation="Replace the literal with a reference to the platform's secret store (`${{ secrets.NAME }}`, `${NAME}`, `RUN --mount=type=secret`) and rotate the value.",
            references=(_DOCKER_SECRETS, _GHA_SECRETS, _COMPOSE_SECRETS),
        ),
    ),
    references=(_DOCKER_SECRETS, _GHA_SECRETS, _COMPOSE_SECRETS),
    probes=("git",),
    needs_existing_domain=False,
)


@dataclass(frozen=True)
class Literal:
    path: str
    line: int
    name: str
    masked: str
    instruction: str | None


def find_literals(path: str, text: str, detector: Detector | None = None) -> list[Literal]:
    """Secret-named variables with a literal value in one deploy file (values masked on the way out)."""
    out: list[Literal] = []
    flagged = {m.line for m in detector.scan(text, path)} if detector is not None else set()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#") or INLINE_ALLOW in line or number in flagged:
            continue  # a line repo.secrets already reports is not reported twice
        m = _ASSIGNMENT.match(line)
        if m is None:
            continue
        value = m["value"].strip("\"'")
        if not value or _REFERENCE.match(value) or value.lower() in ("true", "false", "null", "~", "|", ">"):
            continue
        if m["name"].upper().endswith(("_FILE", "_PATH", "_NAME", "_ID", "_URL_FILE")):
            continue
        out.append(Literal(path, number, m["name"], mask_secret(value), m["inst"].upper() if m["inst"] else None))
    return out


def judge(literals: list[Literal]) -> list[Finding]:
    findings: list[Finding] = []
    for lit in literals:
        how = f"{lit.instruction} {lit.name}" if lit.instruction else lit.name
        evidence = [f"{how} is set to a literal value {lit.masked}"]
        if lit.instruction:
            evidence.append("Dockerfile ENV/ARG values are stored in the image and shown by `docker history`")
        findings.append(META.finding("hardcoded", target=f"{lit.path}:{lit.line}", evidence=evidence))
    return findings


def collect(names: tuple[str, ...], detector: Detector) -> list[str]:
    """The deploy files among ``names`` that the allowlist does not exempt."""
    return [n for n in names if _DEPLOY_FILE.search(n) and not detector.allowlist.path_allowed(n)]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    root = Path(target)
    try:
        detector = detector_for(ctx.config.secrets, root)
    except SecretsError as exc:
        raise CouldNotRun(str(exc)) from None
    wanted = collect(await ctx.git.worktree(root), detector)
    texts = await ctx.git.read_texts(root, wanted, 1 << 20)
    literals: list[Literal] = []
    for name, text in texts.texts:
        literals.extend(find_literals(name, text, detector))
    return judge(literals)


CHECK = Check(meta=META, run=run)
