"""The repo.* and env.contract judges on facts (no git, no lab): which finding, which severity, masked evidence."""

from __future__ import annotations

from secrets_corpus import DB_PASSWORD, GITHUB, STRIPE_LIVE, STRIPE_TEST

from launchready.checks.env import contract as env_contract
from launchready.checks.repo import deploy_secrets, env_files
from launchready.checks.repo import secrets as repo_secrets
from launchready.core.severity import Impact, Severity
from launchready.secrets.contract import Issue, Problem
from launchready.secrets.detector import Detector
from launchready.secrets.model import CommitInfo, Note, ScanResult, Source, hit_from_match


def hits(text: str, path: str, source: Source = Source.TREE, commit: CommitInfo | None = None) -> list:  # type: ignore[type-arg]
    return [hit_from_match(m, path, source, commit) for m in Detector().scan(text, path)]


COMMIT = CommitInfo("a" * 40, "Dev <dev@example.test>", "2025-01-02T10:00:00+00:00")


def test_live_key_in_tree_is_an_exposed_blocker_with_its_impact() -> None:
    tree = ScanResult(hits=hits(f'K = "{STRIPE_LIVE}"\n', "app/pay.py"))
    [finding] = repo_secrets.judge(tree, None)
    assert finding.id == "repo.secrets.exposed"
    assert finding.severity is Severity.BLOCKER and finding.impact is Impact.PAYMENTS
    assert finding.target == "app/pay.py:1"
    assert STRIPE_LIVE not in " ".join(finding.evidence) and "sk_l…(40 chars)" in finding.evidence[0]
    assert "Roll the key in the Stripe dashboard" in finding.remediation


def test_history_only_is_in_history_with_the_scanners_severity() -> None:
    # One rule with `secrets scan`: a live key left in history is still a blocker until rotated.
    history = ScanResult(
        hits=[h.with_(in_head=False) for h in hits(f'K = "{STRIPE_LIVE}"\n', "old.py", Source.HISTORY, COMMIT)]
    )
    [finding] = repo_secrets.judge(ScanResult(), history)
    assert finding.id == "repo.secrets.in-history" and finding.severity is Severity.BLOCKER
    assert finding.severity is history.hits[0].severity
    assert "no longer in HEAD: only in git history" in finding.evidence
    assert any("aaaaaaaaaa" in e for e in finding.evidence)


def test_tree_hit_also_in_history_is_reported_once_with_its_commit() -> None:
    tree = ScanResult(hits=hits(f'K = "{GITHUB}"\n', "a.py"))
    history = ScanResult(
        hits=[h.with_(in_head=True) for h in hits(f'K = "{GITHUB}"\n', "a.py", Source.HISTORY, COMMIT)]
    )
    [finding] = repo_secrets.judge(tree, history)
    assert finding.id == "repo.secrets.exposed"
    assert any("added in commit aaaaaaaaaa" in e for e in finding.evidence)


def test_untracked_file_with_a_committed_value_is_not_said_to_be_added_in_a_commit() -> None:
    text = f'DB_PASSWORD="{DB_PASSWORD}"\n'
    tree = ScanResult(hits=hits(text, ".env.staging") + hits(text, ".env"))
    history = ScanResult(hits=[h.with_(in_head=True) for h in hits(text, ".env", Source.HISTORY, COMMIT)])
    found = {f.target: f for f in repo_secrets.judge(tree, history)}
    assert not any("added in commit" in e for e in found[".env.staging:1"].evidence)
    assert any("added in commit aaaaaaaaaa" in e for e in found[".env:1"].evidence)
    # A password in a committed .env is a blocker in the audit as in `secrets scan`.
    assert found[".env:1"].id == "repo.secrets.exposed" and found[".env:1"].severity is Severity.BLOCKER


def test_generic_is_possible_and_test_keys_low_risk_and_notes_info() -> None:
    tree = ScanResult(
        hits=hits('API_TOKEN = "q8F3kL9zQ2mP7xR4tV6w"\n', "a.py") + hits(f'K = "{STRIPE_TEST}"\n', "b.py"),
        notes=[Note("big.sql", "skipped: 200 MiB is over the 8 MiB limit")],
        root="/repo",
    )
    found = {f.id: f for f in repo_secrets.judge(tree, None)}
    assert found["repo.secrets.possible"].severity is Severity.MEDIUM
    assert found["repo.secrets.low-risk"].severity is Severity.LOW
    assert found["repo.secrets.not-scanned"].severity is Severity.INFO
    assert found["repo.secrets.not-scanned"].evidence == ("big.sql: skipped: 200 MiB is over the 8 MiB limit",)


def test_baselined_hits_are_accepted() -> None:
    tree = ScanResult(hits=[h.with_(baselined=True) for h in hits(f'K = "{STRIPE_LIVE}"\n', "a.py")])
    assert repo_secrets.judge(tree, None) == []


def test_env_files_tracked_and_not_ignored() -> None:
    files = env_files.RepoFiles(
        tracked=(
            ".env",
            ".env.example",
            "config/service-account-prod.json",
            "deploy/id_rsa",
            "app.py",
            "certs/server.key",
        ),
        present=(".env",),
        env_ignored=False,
    )
    found = {(f.id, f.target) for f in env_files.judge(files)}
    assert found == {
        ("repo.env-files.tracked", ".env:1"),
        ("repo.env-files.tracked", "config/service-account-prod.json:1"),
        ("repo.env-files.tracked", "deploy/id_rsa:1"),
        ("repo.env-files.tracked", "certs/server.key:1"),
        ("repo.env-files.not-ignored", ".gitignore:1"),
    }
    clean = env_files.RepoFiles(tracked=(".env.example", "app.py"), present=(".env.example", ".env"), env_ignored=True)
    assert env_files.judge(clean) == []
    # A project without env files is not told to ignore them.
    assert env_files.judge(env_files.RepoFiles(tracked=("a.py",), present=("a.py",), env_ignored=False)) == []


def test_deploy_literals_in_dockerfile_compose_and_ci() -> None:
    dockerfile = "FROM node:20\nARG NPM_TOKEN=abc123def\nENV PORT=3000\nENV JWT_SECRET secretvalue1\n"
    compose = "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter22\n      API_KEY: ${API_KEY}\n      - ADMIN_TOKEN=t0ken99\n"
    ci = "env:\n  STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}\n  DEPLOY_TOKEN: abcd1234\n  PASSWORD_FILE: /run/secrets/pw\n"
    literals = (
        deploy_secrets.find_literals("Dockerfile", dockerfile)
        + deploy_secrets.find_literals("docker-compose.yml", compose)
        + deploy_secrets.find_literals(".github/workflows/ci.yml", ci)
    )
    assert [(lit.path, lit.line, lit.name) for lit in literals] == [
        ("Dockerfile", 2, "NPM_TOKEN"),
        ("Dockerfile", 4, "JWT_SECRET"),
        ("docker-compose.yml", 4, "POSTGRES_PASSWORD"),
        ("docker-compose.yml", 6, "ADMIN_TOKEN"),
        (".github/workflows/ci.yml", 3, "DEPLOY_TOKEN"),
    ]
    findings = deploy_secrets.judge(literals)
    assert {f.id for f in findings} == {"repo.deploy-secrets.hardcoded"}
    assert all("hunter22" not in " ".join(f.evidence) for f in findings)


def test_deploy_line_already_reported_by_the_scanner_is_not_repeated() -> None:
    # A random password is the scanner's (generic-secret), and so is a weak one under a password key
    # (config-credential): every line is the scanner's, none is reported twice.
    text = f"DATABASE_PASSWORD: {DB_PASSWORD}\nADMIN_PASSWORD: postgres2024\nSTRIPE_SECRET_KEY: {STRIPE_LIVE}\n"
    scanned = {m.line: m.rule.id for m in Detector().scan(text, "docker-compose.yml")}
    assert scanned == {1: "generic-secret", 2: "config-credential", 3: "stripe-live-key"}
    assert deploy_secrets.find_literals("docker-compose.yml", text, Detector()) == []
    # Without the scanner's lines the check still reports every literal.
    assert [lit.name for lit in deploy_secrets.find_literals("docker-compose.yml", text)] == [
        "DATABASE_PASSWORD",
        "ADMIN_PASSWORD",
        "STRIPE_SECRET_KEY",
    ]


def test_env_contract_ids_and_impacts() -> None:
    issues = [
        Issue(
            Problem.MISSING, "POSTMARK_TOKEN", "production", ("email",), Severity.BLOCKER, "POSTMARK_TOKEN is not set"
        ),
        Issue(Problem.MISSING, "SENTRY_DSN", "production", (), Severity.HIGH, "SENTRY_DSN is not set"),
        Issue(Problem.EMPTY, "APP_URL", "production", (), Severity.HIGH, "APP_URL is set but empty"),
        Issue(Problem.PLACEHOLDER, "S3_BUCKET", "staging", (), Severity.MEDIUM, "S3_BUCKET holds a placeholder"),
        Issue(Problem.DRIFT, "FLAGS_KEY", "production", (), Severity.MEDIUM, "FLAGS_KEY is set in staging"),
    ]
    found = [(f.id, f.target, f.severity, f.impact) for f in env_contract.judge(issues)]
    assert found == [
        ("env.contract.flow-variable-missing", "production:POSTMARK_TOKEN", Severity.BLOCKER, Impact.EMAIL),
        ("env.contract.missing", "production:SENTRY_DSN", Severity.HIGH, Impact.AVAILABILITY),
        ("env.contract.empty", "production:APP_URL", Severity.HIGH, Impact.AVAILABILITY),
        ("env.contract.placeholder", "staging:S3_BUCKET", Severity.MEDIUM, Impact.AVAILABILITY),
        ("env.contract.drift", "production:FLAGS_KEY", Severity.MEDIUM, Impact.AVAILABILITY),
    ]
