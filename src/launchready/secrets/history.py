"""Scan every commit reachable from any ref, and the staged changes, through streamed git diffs.

History: ``git log --all --full-history -p -U0 --cc -M`` read from the pipe as git writes it
(never held whole). Only added lines are scanned, so each secret is seen in the commit that
added it (and again wherever it was re-added). Log order is newest first, so the last sighting
of a secret is the commit that introduced it. Merge commits are read as dense combined diffs:
only lines new against every parent (a conflict resolution that added a key) are added there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from launchready.core.limits import MAX_INPUT_BYTES, bounded_lines, describe_size
from launchready.probes.git import git_env
from launchready.secrets.detector import Detector
from launchready.secrets.diffscan import LOG_FORMAT, DiffMatch, DiffScanner
from launchready.secrets.errors import SecretsError
from launchready.secrets.git import repo_info, repo_root
from launchready.secrets.model import Hit, Note, ScanResult, Source, fingerprint, hit_from_match

HISTORY_ARGS = (
    "log",
    "--all",
    "--full-history",
    "-p",
    "-U0",
    "--cc",
    "-M",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
)


def _stream(root: Path, args: list[str], scanner: DiffScanner, notes: list[Note]) -> None:
    """Feed git's output to ``scanner``; a line over the input limit is scanned in its first 8 MB and noted."""

    def on_cut(_: int, dropped: int, kept: bytes) -> None:
        if not scanner.scans(kept):
            return  # a removed or context line, or a file the allowlist skips: never scanned anyway
        # Called before the cut line reaches the scanner: it still stands just before that line.
        sha, path, line = scanner.where_next()
        place = (path or ".") + (f":{line}" if path is not None and line is not None else "")
        commit = f"commit {sha[:12]}: " if sha else ""
        notes.append(
            Note(
                place,
                f"{commit}line longer than {describe_size(MAX_INPUT_BYTES)}: {dropped} bytes after that not scanned",
            )
        )

    try:
        proc = subprocess.Popen(
            ["git", "-C", str(root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
            bufsize=1 << 16,
        )
    except FileNotFoundError:
        raise SecretsError("git is not installed (needed for repository scans)") from None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        # A 200 MB one-line file in some commit is read in its first 8 MB, not held whole.
        scanner.feed(bounded_lines(proc.stdout, give_up=None, on_cut=on_cut))
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise SecretsError(f"git {args[0]} in {root} failed: {err.splitlines()[-1] if err else f'exit {code}'}")


def scan_history(path: Path, detector: Detector) -> ScanResult:
    info = repo_info(path)
    result = ScanResult(source=Source.HISTORY, root=str(info.root))
    if not info.has_commits:
        result.notes.append(Note(".", "the repository has no commits yet: no history to scan"))
        return result
    if info.shallow:
        result.notes.append(
            Note(".", "shallow clone: commits older than the clone's depth were not scanned (git fetch --unshallow)")
        )
    # One entry per file a secret was added to (so a value shared by two files is reported in both),
    # holding every line the newest commit that added it there put it on.
    places: dict[tuple[str, str], list[Hit]] = {}
    secrets: dict[str, str] = {}

    def on_match(found: DiffMatch) -> None:
        fp = fingerprint(found.match.rule.id, found.match.secret)
        hit = hit_from_match(found.match, found.path, Source.HISTORY, found.commit)
        secrets[fp] = found.match.secret
        known = places.get((fp, found.path))
        if known is None:
            places[(fp, found.path)] = [hit]
        elif known[0].commit == found.commit:
            if all(h.line != hit.line for h in known):
                known.append(hit)
        else:
            # Newest first: every later sighting is older, the last one is where it came in.
            places[(fp, found.path)] = [h.with_(first_commit=found.commit, first_path=found.path) for h in known]

    scanner = DiffScanner(detector, on_match)
    _stream(info.root, [*HISTORY_ARGS, LOG_FORMAT], scanner, result.notes)
    result.commits_scanned = scanner.commits
    hits = [h for group in places.values() for h in group]
    present = _present_in_head(info.root, [(h.path, secrets[h.fingerprint]) for h in hits])
    result.hits = [h.with_(in_head=p) for h, p in zip(hits, present, strict=True)]
    return result


def _present_in_head(root: Path, wanted: list[tuple[str, str]]) -> list[bool]:
    """For each (path, secret): does HEAD's version of path still contain the secret? One git process."""
    if not wanted:
        return []
    paths = list(dict.fromkeys(p for p, _ in wanted))
    request = "".join(f"HEAD:{p}\n" for p in paths).encode()
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"],
            input=request,
            capture_output=True,
            env=git_env(),
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return [False] * len(wanted)
    contents: dict[str, bytes] = {}
    out = done.stdout
    pos = 0
    for p in paths:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] != b"missing":
            size = int(header[2])
            contents[p] = out[pos : pos + size]
            pos += size + 1
    return [secret.encode() in contents.get(p, b"") for p, secret in wanted]


def scan_staged(path: Path, detector: Detector, *, root: Path | None = None) -> ScanResult:
    """What ``git commit`` would add now: the index against HEAD (or everything, before the first commit).

    ``root`` is the repository's top when the caller already knows it (one git call fewer per commit).
    """
    top = root if root is not None else repo_root(path)
    result = ScanResult(source=Source.STAGED, root=str(top))

    def on_match(found: DiffMatch) -> None:
        result.hits.append(hit_from_match(found.match, found.path, Source.STAGED))

    scanner = DiffScanner(detector, on_match)
    _stream(
        top, ["diff", "--cached", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv"], scanner, result.notes
    )
    result.files_scanned = scanner.files
    if scanner.binary_files:
        result.notes.append(Note(".", f"{scanner.binary_files} staged binary file(s) not scanned"))
    return result
