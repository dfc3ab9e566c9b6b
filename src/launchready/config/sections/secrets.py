"""``[secrets]``: the repository scan (allowlist, baseline, history) and the environment contract.

Relative paths: ``repo`` and ``env.sources`` resolve against the config file's directory;
``baseline`` and ``env.example`` against the repository root (the CLI resolves them, see
``launchready.secrets.settings``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from launchready.config.strict import StrictModel

_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLOW = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _var_name(value: str) -> str:
    if not _VAR.match(value):
        raise ValueError(f"expected an environment variable name like 'DATABASE_URL', got {value!r}")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"expected a regular expression, got {value!r} ({exc})") from None
    return value


VarName = Annotated[str, AfterValidator(_var_name)]
Regex = Annotated[str, AfterValidator(_regex)]


class EnvContract(StrictModel):
    """Which variables each environment must have, and which flows break without them."""

    example: str | None = Field(
        default=None, description="A .env.example listing the variables every environment needs (names only)."
    )
    required: dict[str, tuple[VarName, ...]] = Field(
        default={}, description="Variables per environment, besides those in example (e.g. production = [...])."
    )
    optional: tuple[VarName, ...] = Field(default=(), description="Variables that may be empty or absent.")
    flows: dict[str, tuple[VarName, ...]] = Field(
        default={},
        description="Variables a flow needs (signup, email, payments, login...): missing in production is a blocker.",
    )
    sources: dict[str, str] = Field(
        default={},
        description="Per environment, a file of its variables (dotenv or KEY=VALUE export) the audit checks.",
    )

    @field_validator("flows")
    @classmethod
    def _flow_names(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name in value:
            if not _FLOW.match(name):
                raise ValueError(f"expected a flow name like 'signup' or 'email', got {name!r}")
        return value


class SecretsConfig(StrictModel):
    repo: str | None = Field(
        default=None, description="The repository the audit scans (default: --repo, else the current git checkout)."
    )
    history: bool = Field(default=True, strict=True, description="The audit scans the full git history too.")
    allow_paths: tuple[str, ...] = Field(default=(), description="Globs of files never reported (tests/fixtures/**).")
    allow_regexes: tuple[Regex, ...] = Field(default=(), description="Values matching one of these are not secrets.")
    allow_values: tuple[str, ...] = Field(default=(), description="Exact values that are not secrets.")
    baseline: str = Field(
        default=".launchready/secrets-baseline.json", description="Accepted findings (written by --update-baseline)."
    )
    max_file_mb: int = Field(default=8, ge=1, le=4096, strict=True, description="Larger files are skipped with a note.")
    env: EnvContract = EnvContract()
