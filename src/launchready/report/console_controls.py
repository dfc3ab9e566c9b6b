"""Everything a rich console prints shows control characters instead of sending them (``visible``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderableType, RenderHook, RenderResult
from rich.segment import Segment

from launchready.report.controls import visible


class _VisibleRenderable:
    """Renders ``inner`` and makes the text of every segment visible; rich's own style and
    cursor codes live in the segments' styles and control fields, so they are untouched."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control:
                yield segment
            else:
                yield Segment(visible(segment.text), segment.style)


class _VisibleHook(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_VisibleRenderable(r) for r in renderables]


@contextmanager
def visible_controls(console: Console) -> Iterator[Console]:
    """While open, everything printed on ``console`` shows control characters instead of sending them."""
    console.push_render_hook(_VisibleHook())
    try:
        yield console
    finally:
        console.pop_render_hook()
