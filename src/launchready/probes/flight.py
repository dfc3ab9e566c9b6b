"""Single-flight: identical questions within a run are asked once, whoever asks and whenever."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar

_K = TypeVar("_K", bound=Hashable)
_T = TypeVar("_T")


async def single_flight(
    registry: dict[_K, asyncio.Task[_T]], key: _K, start: Callable[[], Coroutine[Any, Any, _T]]
) -> _T:
    """The answer for ``key``, computed once: later and concurrent callers await the same task."""
    task = registry.get(key)
    if task is None:
        task = asyncio.ensure_future(start())
        registry[key] = task
    # shield: one caller's cancellation (its check timed out) must not cancel the others' answer.
    return await asyncio.shield(task)
