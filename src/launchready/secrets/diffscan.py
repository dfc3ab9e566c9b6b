"""Scan the added lines of a streamed ``git log -p`` / ``git diff`` output, one (commit, file) block at a time.

The stream is read line by line from git's pipe and never held whole: only the added lines of
the current file in the current commit are kept, and a block is scanned (and dropped) as soon
as the next file or commit begins, or when it grows past a cap. Blocks in which no rule keyword
occurs are dropped without being decoded.

Parsing keys on the first byte of each line: inside a hunk every content line starts with one of
``+``, ``-``, space (one column per parent in combined merge diffs, where a line is new only when
every column says ``+``); anything else ends the hunk. So an added line reading ``+++ x`` can
never be mistaken for a file header.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import overload

from launchready.secrets.detector import Detector, Match
from launchready.secrets.model import CommitInfo

COMMIT_MARK = b"\x1e"
FIELD_SEP = b"\x1f"
# What `git log --format` must print for each commit to be parsed here.
LOG_FORMAT = "--format=%x1e%H%x1f%an <%ae>%x1f%aI"
_HUNK = re.compile(rb"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @@+")
BLOCK_CAP = 1 << 20
_CONTENT = frozenset(b"+- ")
# First bytes of header lines that carry nothing the scanner needs (outside a hunk).
_PLAIN_HEADERS = frozenset({b"i", b"-", b"n", b"s", b"r", b"o", b"c", b"m", b"\n", b""})


@dataclass(frozen=True)
class DiffMatch:
    match: Match
    path: str
    commit: CommitInfo | None


def _decode_path(raw: bytes) -> str:
    text = raw.rstrip(b"\r\n")
    if text.startswith(b'"') and text.endswith(b'"'):
        # git quotes unusual names C-style: "b/caf\303\251.txt"
        text = codecs.escape_decode(text[1:-1])[0]
    return text.decode("utf-8", "replace")


class RunNumbers(Sequence[int]):
    """The new-file line numbers of a block's lines, from runs of consecutive lines (computed on access:
    only a block with a hit needs any)."""

    def __init__(self, runs: list[tuple[int, int]], length: int) -> None:
        self._starts = [index for index, _ in runs]
        self._firsts = [number for _, number in runs]
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if not 0 <= index < self._length:
            raise IndexError(index)
        run = bisect_right(self._starts, index) - 1
        if run < 0:
            return index + 1  # no hunk header seen (not produced by git): count from the block's start
        return self._firsts[run] + index - self._starts[run]


class DiffScanner:
    def __init__(self, detector: Detector, on_match: Callable[[DiffMatch], None]) -> None:
        self.detector = detector
        self.on_match = on_match
        self.commits = 0
        self.binary_files = 0
        self.files = 0  # file diffs read (a staged scan's "files scanned")
        self._commit: CommitInfo | None = None
        self._path: str | None = None
        self._skip_path = False
        self._columns = 1
        self._in_hunk = False
        self._new_line = 0
        self._lines: list[bytes] = []
        # Line numbers of the block, as runs: (index of the run's first line in _lines, its number). In a
        # one-parent hunk every added line follows the previous one, so the hunk header's number is the
        # only one kept; the hot path appends the line and nothing else.
        self._runs: list[tuple[int, int]] = []
        self._size = 0
        self._allowed: dict[str, bool] = {}

    def feed(self, lines: Iterable[bytes]) -> None:
        content = self._content
        header = self._header
        for line in lines:
            # The hot path, inlined: an added line of an ordinary (one-parent) diff.
            if self._in_hunk and line:
                first = line[0]
                if first == 0x2B and self._columns == 1:  # "+"
                    if not self._skip_path:
                        # Kept as git wrote it ("+text\n"): the prefixes go in one pass at flush.
                        self._lines.append(line)
                        self._size += len(line)
                        if self._size > BLOCK_CAP:
                            self._flush()
                    continue
                if first in _CONTENT:
                    content(line)
                    continue
            header(line)
        self._flush()

    def scans(self, line: bytes) -> bool:
        """Whether ``line``, coming next, would be scanned: an added line of a file not allowlisted."""
        if not self._in_hunk or self._skip_path or self._path is None:
            return False
        return line[: self._columns] == b"+" * self._columns

    def where_next(self) -> tuple[str | None, str | None, int | None]:
        """(commit sha, file, line number) the next added line would have: what a note about it names."""
        sha = self._commit.sha if self._commit is not None else None
        if not self._in_hunk:
            return sha, self._path, None
        if self._columns == 1 and self._runs:
            start, number = self._runs[-1]
            return sha, self._path, number + len(self._lines) - start
        return sha, self._path, self._new_line

    def _content(self, line: bytes) -> None:
        columns = self._columns
        if columns == 1:
            if line[0] == 0x2B:  # "+"
                self._add(line[1:])
            elif line[0] == 0x20:
                self._new_line += 1
            return
        prefix = line[:columns]
        if b"-" in prefix:
            return
        if prefix == b"+" * columns:
            self._add(line[columns:])
        else:
            self._new_line += 1

    def _add(self, text: bytes) -> None:
        """An added line of a combined (merge) diff, its prefix removed: stored in the hot path's form
        ("+text\n") with a run of its own (the lines of such a hunk need not follow each other)."""
        if not self._skip_path:
            line = b"+" + text if text.endswith(b"\n") else b"+" + text + b"\n"
            self._runs.append((len(self._lines), self._new_line))
            self._lines.append(line)
            self._size += len(line)
            if self._size > BLOCK_CAP:
                self._flush()
        self._new_line += 1

    def _header(self, line: bytes) -> None:
        if line[:1] in _PLAIN_HEADERS and not self._in_hunk:
            return  # `index ...`, `--- a/x`, `new file mode`, `similarity index`, `rename from`, blank lines
        if line.startswith(COMMIT_MARK):
            self._flush()
            self._in_hunk = False
            self._path = None
            parts = line[1:].rstrip(b"\r\n").split(FIELD_SEP)
            sha, author, date = (p.decode("utf-8", "replace") for p in (parts + [b"", b"", b""])[:3])
            self._commit = CommitInfo(sha=sha, author=author, date=date)
            self.commits += 1
        elif line.startswith(b"diff "):
            self._flush()
            self._in_hunk = False
            self._path = None
            self._skip_path = True  # until a "+++" names the new side
            self._columns = 1 if line.startswith(b"diff --git") else 2
        elif line.startswith(b"+++ "):
            raw = line[4:]
            if raw.startswith(b"/dev/null"):
                self._path, self._skip_path = None, True
            else:
                path = _decode_path(raw)
                path = path[2:] if path.startswith("b/") else path
                self._path = path
                self.files += 1
                skip = self._allowed.get(path)
                if skip is None:
                    # The same paths recur in thousands of commits; glob matching each time adds up.
                    skip = self._allowed[path] = self.detector.allowlist.path_allowed(path)
                self._skip_path = skip
        elif line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m is not None:
                self._columns = max(1, line.index(b" ") - 1) if line.startswith(b"@@@") else 1
                self._new_line = int(m.group(1))
                self._in_hunk = True
                if self._columns == 1:
                    self._runs.append((len(self._lines), self._new_line))
        elif line.startswith(b"Binary files"):
            self.binary_files += 1
        elif self._in_hunk and not line.startswith(b"\\"):
            self._in_hunk = False

    def _flush(self) -> None:
        if not self._lines:
            self._runs = []
            return
        lines, runs = self._lines, self._runs
        numbers = RunNumbers(runs, len(lines))
        # A block cut by the size cap goes on in the same hunk: its next line follows the last one.
        self._lines, self._runs, self._size = [], [(0, numbers[len(lines) - 1] + 1)], 0
        if self._path is None:
            return
        # No separate keyword pass here: detector.scan's own prefilter sees the same keywords, and
        # most blocks of real code contain one, so a second pass would only double the work.
        if not lines[-1].endswith(b"\n"):
            lines[-1] += b"\n"  # the last line of git's output may have no newline
        # Every line is "+text\n": drop the first "+" and the one after each newline, and the last newline.
        text = b"".join(lines)[1:-1].replace(b"\n+", b"\n").decode("utf-8", "replace")
        for match in self.detector.scan(text, self._path, numbers):
            self.on_match(DiffMatch(match, self._path, self._commit))
