"""The explicit list of checks, loaded and validated on demand (no import-time side effects)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from pydantic import ValidationError

from launchready.core.check import Check, CheckMeta, FindingSpec
from launchready.core.errors import CheckDefinitionError

# One line per check module. Adding a check means writing its module and adding it here.
BUILTIN_CHECK_MODULES: tuple[str, ...] = (
    "launchready.checks.dns.apex",
    "launchready.checks.tls.certificate",
    "launchready.checks.tls.protocols",
    "launchready.checks.tls.key_strength",
    "launchready.checks.tls.caa",
    "launchready.checks.web.https_redirect",
    "launchready.checks.web.hsts",
    "launchready.checks.web.private_cache",
    "launchready.checks.web.links",
    "launchready.checks.web.mixed_content",
    "launchready.checks.web.headers",
    "launchready.checks.web.caching",
    "launchready.checks.web.canonical_host",
    "launchready.checks.web.redirect_map",
    "launchready.checks.web.admin_surface",
    "launchready.checks.web.edge",
    "launchready.checks.email.spf",
    "launchready.checks.email.dmarc",
    "launchready.checks.email.dkim",
    "launchready.checks.email.mx",
    "launchready.checks.email.mta_sts",
    "launchready.checks.email.tls_rpt",
    "launchready.checks.dns.cname",
    "launchready.checks.dns.ns",
    "launchready.checks.dns.hosts",
    "launchready.checks.app.health",
    "launchready.checks.repo.secrets",
    "launchready.checks.repo.env_files",
    "launchready.checks.repo.deploy_secrets",
    "launchready.checks.env.contract",
    "launchready.checks.app.smoke",
    "launchready.checks.perf.load",
    "launchready.checks.perf.growth",
    "launchready.checks.perf.pageload",
    "launchready.checks.perf.cache",
)


@dataclass(frozen=True)
class Registry:
    checks: tuple[Check, ...]

    def get(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def find_spec(self, some_id: str) -> tuple[CheckMeta, FindingSpec | None]:
        """Look up a check id or a finding id; used by ``launchready explain``."""
        for check in self.checks:
            if check.id == some_id:
                return check.meta, None
            for spec in check.meta.findings:
                if spec.id == some_id:
                    return check.meta, spec
        raise KeyError(some_id)

    def select(self, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Registry:
        """Keep checks whose id equals or starts with one of ``only`` (all when empty), minus ``skip``."""

        def matches(check_id: str, prefixes: tuple[str, ...]) -> bool:
            return any(check_id == p or check_id.startswith(p + ".") for p in prefixes)

        kept = tuple(c for c in self.checks if (not only or matches(c.id, only)) and not matches(c.id, skip))
        return Registry(kept)


def _load_module_check(module: ModuleType) -> Check:
    check = getattr(module, "CHECK", None)
    if not isinstance(check, Check):
        raise CheckDefinitionError(f"{module.__name__}: no module-level CHECK = Check(...)")
    try:
        # Re-validate: a CheckMeta built with model_construct or mutated would slip past otherwise.
        CheckMeta.model_validate(check.meta.model_dump())
    except ValidationError as exc:
        raise CheckDefinitionError(f"{module.__name__}: invalid metadata: {exc}") from exc
    if not callable(check.run):
        raise CheckDefinitionError(f"{module.__name__}: CHECK.run is not callable")
    return check


def load_registry(module_names: tuple[str, ...] = BUILTIN_CHECK_MODULES) -> Registry:
    checks: list[Check] = []
    seen_ids: dict[str, str] = {}
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise CheckDefinitionError(f"{name}: cannot import: {exc}") from exc
        check = _load_module_check(module)
        all_ids = [check.id, *(s.id for s in check.meta.findings)]
        for some_id in all_ids:
            if some_id in seen_ids:
                raise CheckDefinitionError(f"{name}: id {some_id!r} already used by {seen_ids[some_id]}")
            seen_ids[some_id] = name
        checks.append(check)
    return Registry(tuple(checks))
