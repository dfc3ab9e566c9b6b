"""Scan a working tree: the files git would track (respecting .gitignore), or every file of a plain directory.

Binary files and files over the size limit are skipped with a note; neither is read into memory
(binaries are recognised from their first 8 KiB, large files from their size alone).
"""

from __future__ import annotations

from pathlib import Path

from launchready.probes.git import worktree_files
from launchready.secrets.detector import Detector
from launchready.secrets.errors import SecretsError
from launchready.secrets.model import Note, ScanResult, Source, hit_from_match

MAX_FILE_BYTES = 8 * 1024 * 1024
_SNIFF_BYTES = 8192


def read_text_file(path: Path, max_bytes: int) -> str | Note:
    """The file's text, or a Note saying why it was not scanned."""
    try:
        stat = path.stat()
    except OSError as exc:
        return Note(str(path), f"cannot read: {exc.strerror or exc}")
    if not path.is_file():
        return Note(str(path), "not a regular file")
    if stat.st_size > max_bytes:
        return Note(
            str(path), f"skipped: {stat.st_size / 1_048_576:.0f} MiB is over the {max_bytes // 1_048_576} MiB limit"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            if b"\0" in head:
                return Note(str(path), "skipped: binary file")
            data = head + fh.read()
    except OSError as exc:
        return Note(str(path), f"cannot read: {exc.strerror or exc}")
    return data.decode("utf-8", "replace")


def scan_tree(root: Path, detector: Detector, *, max_bytes: int = MAX_FILE_BYTES) -> ScanResult:
    if not root.exists():
        raise SecretsError(f"{root}: no such file or directory")
    result = ScanResult(source=Source.TREE, root=str(root))
    if root.is_file():
        base, names = root.parent, iter([root.name])
    else:
        base = root
        names = iter(worktree_files(root))
    for name in names:
        if detector.allowlist.path_allowed(name):
            continue
        target = base / name
        if target.is_symlink() or not target.exists():
            continue  # a link's target is scanned where it lives; a deleted tracked file has no text
        content = read_text_file(target, max_bytes)
        if isinstance(content, Note):
            result.notes.append(Note(name, content.reason))
            continue
        result.files_scanned += 1
        for match in detector.scan(content, name):
            result.hits.append(hit_from_match(match, name, Source.TREE))
    return result
