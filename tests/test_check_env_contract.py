"""The env.contract check's findings for problems across environments (test keys, shared values, duplicates)."""

from __future__ import annotations

from test_env_contract import PROD_DB, STAGING_DB, across_contract

from launchready.checks.env import contract as env_contract
from launchready.core.severity import Impact, Severity
from launchready.secrets.contract import evaluate, requirements
from launchready.secrets.envfile import parse_env_text


def test_cross_environment_problems_become_their_own_findings() -> None:
    needs = requirements(across_contract(), "production", None)
    have = parse_env_text(
        f"DATABASE_URL={PROD_DB}\nSTRIPE_SECRET_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc\nPAYPAL_MODE=sandbox\n", "prod"
    )
    staging = parse_env_text(f"DATABASE_URL={STAGING_DB}\n", "staging")
    issues = evaluate("production", have, needs, {"staging": staging}, {"PAYPAL_MODE": (3, 7)})
    found = [(f.id, f.target, f.severity, f.impact) for f in env_contract.judge(issues)]
    assert found == [
        ("env.contract.test-key", "production:PAYPAL_MODE", Severity.HIGH, Impact.PAYMENTS),
        ("env.contract.test-key", "production:STRIPE_SECRET_KEY", Severity.BLOCKER, Impact.PAYMENTS),
        ("env.contract.shared", "production:DATABASE_URL", Severity.HIGH, Impact.AVAILABILITY),
        ("env.contract.duplicate", "production:PAYPAL_MODE", Severity.MEDIUM, Impact.AVAILABILITY),
    ]
