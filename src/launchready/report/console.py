"""A ``Document`` on the terminal (rich): the writer for commands whose report is a screenful.

Every model text goes into ``rich.text.Text`` objects, never into markup strings, so a target or
title containing ``[bold]`` is printed literally.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text as RichText

from launchready.report.console_controls import visible_controls
from launchready.report.model import (
    Banner,
    Block,
    BulletList,
    CodeBlock,
    Document,
    LineChart,
    Paragraph,
    Table,
    Text,
    spans,
)

# One colour per tone, as the audit's terminal report uses them.
TONE_STYLE: dict[str, str] = {
    "": "",
    "good": "green",
    "warn": "yellow",
    "bad": "red",
    "muted": "dim",
    "blocker": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def rich_text(text: Text) -> RichText:
    out = RichText()
    for span in spans(text):
        style = " ".join(
            part for part in (TONE_STYLE[span.tone], "bold" if span.strong else "", "cyan" if span.code else "") if part
        )
        out.append(span.text, style=style)
    return out


def print_document(doc: Document, console: Console, *, headings: bool = True) -> None:
    """The document on ``console``; ``headings=False`` prints only the section contents (a
    one-table command such as ``history`` needs no title above its table). Control characters in
    the text are shown, never sent to the terminal."""
    with visible_controls(console):
        _print(doc, console, headings=headings)


def _print(doc: Document, console: Console, *, headings: bool) -> None:
    if headings:
        console.print(RichText(doc.heading, style="bold"))
        if doc.meta:
            console.print(RichText(" · ".join(doc.meta), style="dim"))
    if doc.banner is not None:
        _banner(doc.banner, console)
    for section in doc.sections:
        if section.blocks and all(isinstance(b, LineChart) for b in section.blocks):
            continue  # charts need pixels: the HTML page has them
        if headings:
            console.print()
            console.print(RichText(section.title, style="bold underline"))
        if section.lead:
            console.print(RichText(section.lead, style="dim"))
        for block in section.blocks:
            _block(block, console)


def _banner(banner: Banner, console: Console) -> None:
    line = RichText(f"{banner.label}: ", style="bold")
    line.append(banner.headline, style="bold " + TONE_STYLE[banner.tone])
    line.append(f"  {banner.text}")
    console.print(line)
    for point in banner.points:
        console.print(RichText("  - ") + rich_text(point))


def _block(block: Block, console: Console) -> None:
    if isinstance(block, Paragraph):
        text = rich_text(block.text)
        if block.tone:
            text.stylize(TONE_STYLE[block.tone])
        console.print(text)
    elif isinstance(block, BulletList):
        for item in block.items:
            console.print(RichText("- ") + rich_text(item))
    elif isinstance(block, CodeBlock):
        for line in block.lines:
            console.print(RichText("    " + line))
    elif isinstance(block, Table):
        table = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for column in block.columns:
            table.add_column(
                column.title,
                justify="right" if column.numeric else "left",
                no_wrap=not column.wrap,
                overflow="fold",
            )
        for row in block.rows:
            table.add_row(*(rich_text(cell) for cell in row))
        console.print(table)
    # A LineChart among other blocks is left out: the terminal has no pixels for it.
