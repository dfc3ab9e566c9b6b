"""Scan log output (a file or stdin) for secrets the app printed: streamed in blocks, never held whole."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from launchready.core.limits import MAX_INPUT_BYTES, InputTooLarge, bounded_lines, describe_size
from launchready.secrets.detector import Detector
from launchready.secrets.errors import SecretsError
from launchready.secrets.model import Note, ScanResult, Source, hit_from_match

_BLOCK_LINES = 2000


def scan_log_lines(lines: Iterable[bytes], name: str, detector: Detector) -> ScanResult:
    result = ScanResult(source=Source.LOGS, root=name)
    seen: set[str] = set()
    block: list[bytes] = []
    numbers: list[int] = []

    def flush() -> None:
        if not block:
            return
        raw = b"\n".join(block)
        block.clear()
        nums = list(numbers)
        numbers.clear()
        if not detector.prefilter.any_in_bytes(raw.lower()):
            return
        for match in detector.scan(raw.decode("utf-8", "replace"), name, nums):
            hit = hit_from_match(match, name, Source.LOGS)
            # A log repeats the same secret on every request: report each value once, where it first shows.
            if hit.fingerprint not in seen:
                seen.add(hit.fingerprint)
                result.hits.append(hit)

    for number, line in enumerate(lines, start=1):
        block.append(line.rstrip(b"\r\n"))
        numbers.append(number)
        if len(block) >= _BLOCK_LINES:
            flush()
    flush()
    result.files_scanned = 1
    return result


def scan_log_stream(stream: BinaryIO, name: str, detector: Detector) -> ScanResult:
    """Lines longer than the input limit are scanned in their first 8 MB, with a note; the rest is dropped."""
    cut: list[Note] = []

    def on_cut(number: int, dropped: int, _: bytes) -> None:
        cut.append(
            Note(
                f"{name}:{number}",
                f"line longer than {describe_size(MAX_INPUT_BYTES)}: {dropped} bytes after that not scanned",
            )
        )

    try:
        result = scan_log_lines(bounded_lines(stream, on_cut=on_cut), name, detector)
    except InputTooLarge as exc:
        raise SecretsError(f"--logs {name}: {exc}") from None
    result.notes.extend(cut)
    return result
