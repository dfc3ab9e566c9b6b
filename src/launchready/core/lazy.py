"""Lazy attribute export for a package's ``__init__``: each name is imported from its home module
on first use, so importing the package (or one light module in it) does not pay for the heavy ones."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` (PEP 562) for ``package``: ``homes`` maps each exported
    name to the module that defines it; any other name is an AttributeError as usual."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(home), name)

    return __getattr__
