"""The checks, found under ``launchready.checks`` and validated on demand (no import-time side effects)."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from pydantic import ValidationError

from launchready.core.check import Check, CheckMeta, FindingSpec
from launchready.core.errors import CheckDefinitionError
from launchready.core.labfault import LabFault

# Check modules are found by walking this package: a module with a module-level CHECK is a check,
# any other module is a helper. The lab's fault declarations sit beside the checks in a module of
# this name in each area folder; they are lab data, so the registry of checks never imports them.
CHECKS_PACKAGE = "launchready.checks"
LAB_FAULTS_MODULE = "lab_faults"


def builtin_check_modules(package: str = CHECKS_PACKAGE) -> tuple[str, ...]:
    """Every module under ``package`` that defines ``CHECK``, in a stable order: by the package's
    ``AREA_ORDER`` (areas it does not list go last), then by module path.

    Walked on demand, not at import time: importing the registry imports no check.
    """
    names: list[str] = []
    for name in _walk_modules(package, ordered=True):
        if name.rsplit(".", 1)[-1] == LAB_FAULTS_MODULE:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise CheckDefinitionError(f"{name}: cannot import: {exc}") from exc
        if hasattr(module, "CHECK"):
            names.append(name)
        elif any(isinstance(value, CheckMeta) for value in vars(module).values()):
            # Metadata without CHECK is a check that would silently never run (a typo, a lost line).
            raise CheckDefinitionError(f"{name}: defines CheckMeta but no module-level CHECK = Check(...)")
    return tuple(names)


def _walk_modules(package: str, *, ordered: bool = False) -> list[str]:
    try:
        root = importlib.import_module(package)
    except ImportError as exc:
        raise CheckDefinitionError(f"{package}: cannot import: {exc}") from exc
    found = sorted(info.name for info in pkgutil.walk_packages(root.__path__, prefix=package + ".") if not info.ispkg)
    if not ordered:
        return found
    areas: tuple[str, ...] = getattr(root, "AREA_ORDER", ())

    def rank(name: str) -> int:
        area = name.removeprefix(package + ".").split(".", 1)[0]
        return areas.index(area) if area in areas else len(areas)

    return sorted(found, key=rank)  # stable: module path order within an area


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

    def matching(self, selector: str) -> tuple[str, ...]:
        """The check ids ``selector`` names: a check id, an id prefix on a dot boundary (``email``,
        ``web.headers``) or a finding id (which names the check that emits it). Empty: no match."""
        hits = tuple(c.id for c in self.checks if c.id == selector or c.id.startswith(selector + "."))
        if hits:
            return hits
        return tuple(c.id for c in self.checks if any(spec.id == selector for spec in c.meta.findings))

    def unknown(self, selectors: tuple[str, ...]) -> tuple[str, ...]:
        """The selectors that name no check (a typo would otherwise run nothing and pass)."""
        return tuple(s for s in selectors if not self.matching(s))

    def suggest(self, selector: str, limit: int = 3) -> tuple[str, ...]:
        """The closest check ids, id prefixes or finding ids to a selector that matched nothing."""
        import difflib

        names: set[str] = set()
        for check in self.checks:
            parts = check.id.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            names.update(spec.id for spec in check.meta.findings)
        prefixed = sorted((n for n in names if n.startswith(selector)), key=lambda n: (n.count("."), len(n), n))
        if prefixed:
            return tuple(prefixed[:limit])
        return tuple(difflib.get_close_matches(selector, sorted(names), n=limit, cutoff=0.6))

    def select(self, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Registry:
        """Keep the checks ``only`` names (all when empty), minus those ``skip`` names (see ``matching``)."""
        wanted = {check_id for s in only for check_id in self.matching(s)}
        unwanted = {check_id for s in skip for check_id in self.matching(s)}
        kept = tuple(c for c in self.checks if (not only or c.id in wanted) and c.id not in unwanted)
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


def load_registry(module_names: tuple[str, ...] | None = None) -> Registry:
    """Load and validate the given check modules, by default every built-in one."""
    if module_names is None:
        module_names = builtin_check_modules()
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


def load_lab_faults(registry: Registry | None = None, package: str = CHECKS_PACKAGE) -> tuple[LabFault, ...]:
    """Every ``LAB_FAULTS`` declared in a ``lab_faults`` module beside the checks, validated.

    Each fault must trip the findings of exactly one check, declared in the same area folder
    (``checks/dns/lab_faults.py`` declares faults for ``dns.*`` checks); names are unique.
    Order: by module path, then as declared.
    """
    registry = registry if registry is not None else load_registry()
    faults: list[LabFault] = []
    seen: dict[str, str] = {}
    for name in _walk_modules(package):
        if name.rsplit(".", 1)[-1] != LAB_FAULTS_MODULE:
            continue
        module = importlib.import_module(name)
        declared = getattr(module, "LAB_FAULTS", None)
        if not isinstance(declared, tuple) or not all(isinstance(f, LabFault) for f in declared):
            raise CheckDefinitionError(f"{name}: no module-level LAB_FAULTS = (LabFault(...), ...)")
        area = name.removeprefix(package + ".").rsplit(".", 1)[0]
        for fault in declared:
            if fault.name in seen:
                raise CheckDefinitionError(f"{name}: fault {fault.name!r} already declared in {seen[fault.name]}")
            seen[fault.name] = name
            _validate_fault(name, area, fault, registry)
            faults.append(fault)
    return tuple(faults)


def _validate_fault(module: str, area: str, fault: LabFault, registry: Registry) -> None:
    if not fault.caught:
        raise CheckDefinitionError(f"{module}: fault {fault.name!r} declares no finding it trips")
    owners: set[str] = set()
    for finding_id in fault.triggers:
        try:
            meta, spec = registry.find_spec(finding_id)
        except KeyError:
            raise CheckDefinitionError(
                f"{module}: fault {fault.name!r} trips {finding_id!r}, which no check declares"
            ) from None
        if spec is None:
            raise CheckDefinitionError(f"{module}: fault {fault.name!r} names the check {finding_id!r}, not a finding")
        owners.add(meta.id)
    if len(owners) != 1:
        raise CheckDefinitionError(f"{module}: fault {fault.name!r} trips findings of {sorted(owners)}; one check each")
    [owner] = owners
    if not owner.startswith(area + "."):
        raise CheckDefinitionError(f"{module}: fault {fault.name!r} trips {owner}, declared outside its folder")
