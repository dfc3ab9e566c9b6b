"""The lab's application repository: a small git repo of the marketplace's code, with switchable leaks.

Clean, it is what a careful founder's repo looks like: settings read from the environment, a
value-free ``.env.example``, a ``.gitignore`` that keeps ``.env`` out, CI and compose files that
reference secrets instead of holding them, and deploy exports for production and staging that
satisfy the environment contract. Each fault plants one realistic mistake. Planted credentials are
generated at build time and assembled from pieces, so this source file holds none.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from launchready.lab.error_tracker import DSN_VARIABLE
from launchready.lab.faults import LAB_DOMAIN

REPO_FAULTS = frozenset(
    {
        "repo-secret-in-tree",
        "repo-secret-in-history",
        "repo-env-committed",
        "repo-deploy-secret",
        "env-production-missing-var",
    }
)

# What the flows of the marketplace need (the contract the lab's config declares).
FLOWS: dict[str, tuple[str, ...]] = {
    "signup": ("DATABASE_URL", "SESSION_SECRET"),
    "email": ("POSTMARK_TOKEN", "MAIL_FROM"),
    "payments": ("STRIPE_SECRET_KEY",),
}
EXAMPLE_VARS = (
    "APP_ENV",
    "DATABASE_URL",
    "SESSION_SECRET",
    "POSTMARK_TOKEN",
    "MAIL_FROM",
    "STRIPE_SECRET_KEY",
    "SENTRY_DSN",
)
MISSING_IN_PRODUCTION = "POSTMARK_TOKEN"


@dataclass(frozen=True)
class AppRepo:
    root: Path
    production_env: Path
    staging_env: Path
    # Where each planted fault shows up ("path:line"), for tests.
    planted: dict[str, str]
    # The raw planted values, for tests that grep every output for them (never printed by launchready).
    planted_values: tuple[str, ...]


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _stripe_live_key() -> str:
    return "sk_" + "live_" + _random(string.ascii_letters + string.digits, 32)


def _aws_pair() -> tuple[str, str]:
    key_id = "AK" + "IA" + _random(string.ascii_uppercase + "234567", 16)
    secret = _random(string.ascii_letters + string.digits + "/+", 36) + "7aQ3"
    return key_id, secret


class _Git:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Market Lab Dev",
            "GIT_AUTHOR_EMAIL": f"dev@{LAB_DOMAIN}",
            "GIT_COMMITTER_NAME": "Market Lab Dev",
            "GIT_COMMITTER_EMAIL": f"dev@{LAB_DOMAIN}",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        self.day = 0

    def run(self, *args: str) -> None:
        subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
            cwd=self.root,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def commit(self, message: str, files: dict[str, str | None]) -> None:
        for name, content in files.items():
            path = self.root / name
            if content is None:
                self.run("rm", "-q", "--", name)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            self.run("add", "-f", "--", name)
        self.day += 1
        date = f"2025-01-{self.day:02d}T10:00:00+00:00"
        self.env["GIT_AUTHOR_DATE"] = self.env["GIT_COMMITTER_DATE"] = date
        self.run("commit", "-q", "-m", message)


_SETTINGS = '''"""Settings: everything secret comes from the environment."""
import os

DATABASE_URL = os.environ["DATABASE_URL"]
SESSION_SECRET = os.environ["SESSION_SECRET"]
POSTMARK_TOKEN = os.environ.get("POSTMARK_TOKEN", "")
MAIL_FROM = os.environ.get("MAIL_FROM", "no-reply@marketlab.test")
STRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]
'''
_MAIN = '''"""The marketplace's entry point."""
from app import settings


def create_app():
    return {"db": settings.DATABASE_URL is not None}
'''
_GITIGNORE = "__pycache__/\n*.pyc\n.env\n.env.*\n!.env.example\n"
_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV PORT=8000\nCMD ["python", "-m", "app.main"]\n'
_COMPOSE = (
    "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n"
    "      SESSION_SECRET: ${SESSION_SECRET}\n  db:\n    image: postgres:16\n    environment:\n"
    "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"
)
_CI = (
    "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n"
    "      STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}\n    steps:\n      - uses: actions/checkout@v4\n"
    "      - run: python -m pytest\n"
)


def _exports(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def build_app_repo(
    directory: Path, faults: frozenset[str], error_dsns: Mapping[str, str | None] | None = None
) -> AppRepo:
    """Create the repository (and the deploy exports beside it) in ``directory``.

    ``error_dsns``: each environment's SENTRY_DSN (lab/error_tracker.py); an environment without
    one, or every environment when the mapping has none at all, has no error reporting.
    """
    dsns = {env: dsn for env, dsn in (error_dsns or {}).items() if dsn}
    root = directory / "app-repo"
    root.mkdir(parents=True, exist_ok=True)
    git = _Git(root)
    git.run("init", "-q", "--template=", "-b", "main")
    planted: dict[str, str] = {}
    values: list[str] = []
    example = "".join(f"{name}=\n" for name in EXAMPLE_VARS if name != DSN_VARIABLE or dsns)
    git.commit(
        "Initial marketplace",
        {
            "README.md": "# Market Lab\n",
            "app/__init__.py": "",
            "app/main.py": _MAIN,
            "app/settings.py": _SETTINGS,
            ".env.example": example,
            ".gitignore": _GITIGNORE if "repo-env-committed" not in faults else "__pycache__/\n",
        },
    )
    git.commit(
        "Deploy files", {"Dockerfile": _DOCKERFILE, "docker-compose.yml": _COMPOSE, ".github/workflows/ci.yml": _CI}
    )
    if "repo-secret-in-history" in faults:
        key_id, secret = _aws_pair()
        values += [key_id, secret]
        storage = f'import boto3\n\nAWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n'
        git.commit("Upload avatars to S3", {"app/storage.py": storage})
        planted["repo-secret-in-history"] = "app/storage.py:4"
        git.commit(
            "Read AWS keys from the environment",
            {"app/storage.py": "import boto3\n\n# credentials from the environment\n"},
        )
    if "repo-secret-in-tree" in faults:
        key = _stripe_live_key()
        values.append(key)
        payments = f'import stripe\n\n# TODO move to env before launch\nstripe.api_key = "{key}"\n'
        git.commit("Checkout with Stripe", {"app/payments.py": payments})
        planted["repo-secret-in-tree"] = "app/payments.py:4"
    if "repo-env-committed" in faults:
        git.commit("Local settings", {".env": "APP_ENV=development\nDEBUG=true\n"})
        planted["repo-env-committed"] = ".env:1"
    if "repo-deploy-secret" in faults:
        dockerfile = _DOCKERFILE.replace("ENV PORT=8000\n", "ENV PORT=8000\nENV ADMIN_PASSWORD=launch2024\n")
        git.commit("Admin password for the first deploy", {"Dockerfile": dockerfile})
        planted["repo-deploy-secret"] = "Dockerfile:5"
        values.append("launch2024")
    deploy = directory / "deploy"
    deploy.mkdir(parents=True, exist_ok=True)
    alphabet = string.ascii_letters + string.digits
    production = {
        "APP_ENV": "production",
        "DATABASE_URL": "postgres://market:" + _random(alphabet, 20) + "@db.internal:5432/market",
        "SESSION_SECRET": _random(alphabet, 40),
        "POSTMARK_TOKEN": "-".join(_random("0123456789abcdef", n) for n in (8, 4, 4, 4, 12)),
        "MAIL_FROM": f"no-reply@{LAB_DOMAIN}",
        "STRIPE_SECRET_KEY": "sk_" + "live_" + _random(alphabet, 32),
    }
    # Staging has its own database and secrets: sharing them with production is a finding (env.contract.shared).
    staging = {
        **production,
        "APP_ENV": "staging",
        "DATABASE_URL": "postgres://market:" + _random(alphabet, 20) + "@db.staging.internal:5432/market",
        "SESSION_SECRET": _random(alphabet, 40),
        "POSTMARK_TOKEN": "-".join(_random("0123456789abcdef", n) for n in (8, 4, 4, 4, 12)),
        "STRIPE_SECRET_KEY": "sk_" + "test_" + _random(alphabet, 32),
    }
    for name, exported in (("production", production), ("staging", staging)):
        if name in dsns:
            exported[DSN_VARIABLE] = dsns[name]
    if "env-production-missing-var" in faults:
        del production[MISSING_IN_PRODUCTION]
        planted["env-production-missing-var"] = f"production:{MISSING_IN_PRODUCTION}"
    production_env = deploy / "production.env"
    staging_env = deploy / "staging.env"
    production_env.write_text(_exports(production), encoding="utf-8")
    staging_env.write_text(_exports(staging), encoding="utf-8")
    return AppRepo(root, production_env, staging_env, planted, tuple(values))


def secrets_toml(repo: AppRepo) -> str:
    """The lab config's [secrets] section: its repository and its environment contract."""
    flows = "".join(f"{name} = {json.dumps(list(names))}\n" for name, names in FLOWS.items())
    return (
        "\n[secrets]\n"
        f"repo = {json.dumps(str(repo.root))}\n"
        "\n[secrets.env]\n"
        'example = ".env.example"\n'
        f"sources = {{ production = {json.dumps(str(repo.production_env))}, staging = {json.dumps(str(repo.staging_env))} }}\n"
        "\n[secrets.env.flows]\n" + flows
    )
