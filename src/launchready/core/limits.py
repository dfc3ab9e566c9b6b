"""Size limits on what launchready reads from files, pipes and devices it is pointed at.

A config, env file, flow file or log can be a device (``/dev/zero``), a pipe that never ends or
one 200 MB line: each is read within a limit, never whole, and the caller turns
:class:`InputTooLarge` into its own one-line error.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

MAX_INPUT_BYTES = 8 * 1024 * 1024  # as the tree scan's file limit: no config or text line is larger
_CHUNK = 1024 * 1024


class InputTooLarge(Exception):
    """``str(exc)`` says what was too large and the limit, without naming the file (the caller does)."""


def describe_size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def special_file(path: Path) -> str | None:
    """What ``path`` is when it is a device or socket rather than a file or pipe (None otherwise)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return None


def read_limited(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``; raises InputTooLarge past ``limit`` (a device too) and OSError as open() does."""
    special = special_file(path)
    if special is not None:
        raise InputTooLarge(special)
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(f"larger than {describe_size(limit)}")
    return data


def bounded_lines(
    stream: BinaryIO | Iterable[bytes],
    limit: int = MAX_INPUT_BYTES,
    *,
    on_cut: Callable[[int, int, bytes], None] | None = None,
    give_up: int | None = 128 * MAX_INPUT_BYTES,
) -> Iterator[bytes]:
    """The lines of ``stream`` (newline kept), each at most ``limit`` bytes, reading at most that much at once.

    A longer line yields its first ``limit`` bytes; the rest is read in chunks and dropped, and
    ``on_cut(line_number, dropped_bytes, kept_bytes)`` is told. A line still going after ``give_up`` bytes
    (``/dev/zero`` through a pipe) raises InputTooLarge.
    """
    readline = getattr(stream, "readline", None)
    if readline is None:  # a plain iterable of lines (tests, already-split text)
        yield from stream
        return
    number = 0
    while True:
        line: bytes = readline(limit)
        if not line:
            return
        number += 1
        if len(line) < limit or line.endswith(b"\n"):
            yield line
            continue
        dropped = 0
        while True:
            rest: bytes = readline(_CHUNK)
            if not rest:
                break
            dropped += len(rest)
            if rest.endswith(b"\n"):
                break
            if give_up is not None and dropped > give_up:
                raise InputTooLarge(f"line {number} is longer than {describe_size(give_up)}: not text")
        if on_cut is not None:
            on_cut(number, dropped, line)
        yield line
