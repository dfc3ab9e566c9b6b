"""Log lines: clustering into templates (drain3), error-level detection, following files.

The clusterer masks the variable parts of each line (``templating``: ids, numbers, hex,
addresses, quoted values, which may span several words) with drain3's own parameter token
``<*>`` before drain3 sees it: drain3 then neither splits a template because a quoted value had
more words, nor merges two templates because their masked parts look alike (a parameter token
counts for neither side of its similarity). Measured against plain drain3 on the same labelled
corpus (``bench/intake.py``, grouping accuracy as in the Loghub paper), which also chose the
similarity threshold of 0.5.

A cluster's group is keyed by the masked template of the first line seen for it, so the group
survives a restart whenever that line's masked form comes back (the usual case: variables are
masked before drain3 sees them).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drain3 import TemplateMiner  # type: ignore[import-untyped]
from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]

from launchready.intake.grouping import group_log_template
from launchready.intake.ingest import PreparedEvent, prepare_log_event
from launchready.intake.scrub import Scrubber
from launchready.intake.templating import parameters_masked, template_of

ERROR_LEVELS = frozenset(
    {"error", "err", "critical", "crit", "fatal", "emerg", "emergency", "alert", "panic", "severe"}
)
_LEVEL_WORD = re.compile(
    r"(?i)(?:^|[\s\[(|:=\"'])(error|err|critical|crit|fatal|emerg|emergency|alert|panic|severe)(?=$|[\s\]):|,\"'])"
)


def _miner(sim_th: float, depth: int, max_clusters: int | None) -> Any:
    config = TemplateMinerConfig()
    config.drain_sim_th = sim_th
    config.drain_depth = depth
    config.drain_max_clusters = max_clusters
    config.profiling_enabled = False
    return TemplateMiner(config=config)


@dataclass(frozen=True)
class Clustered:
    template_id: str
    template: str
    key_template: str  # the masked first line of the cluster: what its group is keyed by


class LogClusterer:
    """Assigns each line a template id (stable for the run) and its current template."""

    def __init__(
        self, *, premask: bool = True, sim_th: float = 0.5, depth: int = 4, max_clusters: int | None = None
    ) -> None:
        """``max_clusters`` bounds memory in a long-running service (drain3 forgets the least recently used)."""
        self._premask = premask
        self._max_clusters = max_clusters
        self._miner = _miner(sim_th, depth, max_clusters)
        # cluster id -> (the masked first line, its digest: the template id shown and grouped by)
        self._clusters: dict[int, tuple[str, str]] = {}
        self._by_digest: dict[str, int] = {}

    def add(self, line: str) -> Clustered:
        result = self._miner.add_log_message(parameters_masked(line) if self._premask else line)
        cluster_id = int(result["cluster_id"])
        known = self._clusters.get(cluster_id)
        if known is None:
            if self._max_clusters is not None and len(self._clusters) >= 2 * self._max_clusters:
                self._forget_evicted()
            first = template_of(line)
            known = self._clusters[cluster_id] = (
                first,
                hashlib.sha1(first.encode(), usedforsecurity=False).hexdigest()[:12],
            )
            self._by_digest.setdefault(known[1], cluster_id)
        return Clustered(known[1], str(result["template_mined"]), known[0])

    def _forget_evicted(self) -> None:
        alive = self._miner.drain.id_to_cluster
        self._clusters = {cid: known for cid, known in self._clusters.items() if cid in alive}
        self._by_digest = {known[1]: cid for cid, known in self._clusters.items()}

    def template_for(self, template_id: str) -> str | None:
        """The current (final, once all lines are in) template of a template id."""
        cluster_id = self._by_digest.get(template_id)
        if cluster_id is None:
            return None
        cluster = self._miner.drain.id_to_cluster.get(cluster_id)
        return str(cluster.get_template()) if cluster is not None else self._clusters[cluster_id][0]


def cluster_lines(lines: Iterable[str], clusterer: LogClusterer | None = None) -> Iterator[dict[str, Any]]:
    """``{"line": N, "template_id", "template"}`` per input line; the template is the cluster's final one.

    Lines are held as (number, cluster) pairs until the end, because drain3 generalises a
    cluster's template as more lines arrive and the output should show the final one.
    """
    clusterer = clusterer or LogClusterer()
    assigned: list[tuple[int, str]] = []
    ids_to_cluster: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        found = clusterer.add(line.rstrip("\r\n"))
        assigned.append((number, found.template_id))
        ids_to_cluster[found.template_id] = found.template
    finals = {tid: clusterer.template_for(tid) or t for tid, t in ids_to_cluster.items()}
    for number, template_id in assigned:
        yield {"line": number, "template_id": template_id, "template": finals[template_id]}


@dataclass(frozen=True)
class LogRecord:
    message: str
    level: str | None
    logger: str | None = None
    environment: str | None = None
    release: str | None = None


def record_from_line(line: str) -> LogRecord:
    """A JSON line (``message``/``msg``, ``level``/``severity``, ``logger``) or a plain text line."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            message = data.get("message", data.get("msg", data.get("log", "")))
            level = data.get("level", data.get("severity", data.get("levelname")))
            return LogRecord(
                message=message if isinstance(message, str) else json.dumps(message),
                level=level.lower() if isinstance(level, str) else None,
                logger=data.get("logger") if isinstance(data.get("logger"), str) else None,
                environment=data.get("environment") if isinstance(data.get("environment"), str) else None,
                release=data.get("release") if isinstance(data.get("release"), str) else None,
            )
    match = _LEVEL_WORD.search(stripped[:200])
    return LogRecord(message=stripped, level=match.group(1).lower() if match else None)


def is_error(record: LogRecord) -> bool:
    return record.level is not None and record.level in ERROR_LEVELS


class FileFollower:
    """Reads lines appended to files, reopening a file when it is rotated (new inode) or truncated.

    Starts at the end of each file (like ``tail -F``); ``from_start`` reads what is there first.
    """

    def __init__(self, paths: Iterable[Path], *, from_start: bool = False, max_line: int = 64 * 1024) -> None:
        self._paths = list(paths)
        self._max_line = max_line
        self._state: dict[Path, tuple[int, int, bytes]] = {}  # inode, offset, partial line
        for path in self._paths:
            try:
                st = path.stat()
            except OSError:
                continue
            self._state[path] = (st.st_ino, 0 if from_start else st.st_size, b"")

    def poll(self) -> list[tuple[Path, str]]:
        out: list[tuple[Path, str]] = []
        for path in self._paths:
            try:
                st = path.stat()
            except OSError:
                continue  # rotated away and not recreated yet
            inode, offset, partial = self._state.get(path, (st.st_ino, 0, b""))
            if st.st_ino != inode or st.st_size < offset:
                inode, offset, partial = st.st_ino, 0, b""  # rotated or truncated: the new file from its start
            if st.st_size == offset:
                self._state[path] = (inode, offset, partial)
                continue
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read(4 * 1024 * 1024)
            offset += len(data)
            chunks = (partial + data).split(b"\n")
            partial = chunks.pop()
            if len(partial) > self._max_line:
                chunks.append(partial[: self._max_line])
                partial = b""
            out.extend((path, c.decode("utf-8", "replace")) for c in chunks if c.strip())
            self._state[path] = (inode, offset, partial)
        return out

    def follow(
        self, on_lines: Callable[[list[tuple[Path, str]]], None], should_stop: Callable[[], bool], interval: float = 0.5
    ) -> None:
        while not should_stop():
            lines = self.poll()
            if lines:
                on_lines(lines)
            else:
                time.sleep(interval)


class LogGrouper:
    """Error-level log records -> scrubbed events of their template's group (one clusterer per project)."""

    def __init__(self, scrubber: Scrubber) -> None:
        self._scrubber = scrubber
        self._clusterers: dict[int, LogClusterer] = {}

    def prepare(self, project_id: int, records: Iterable[LogRecord], now: float) -> list[PreparedEvent]:
        clusterer = self._clusterers.get(project_id)
        if clusterer is None:
            clusterer = self._clusterers[project_id] = LogClusterer(max_clusters=5000)
        events: list[PreparedEvent] = []
        for record in records:
            if not is_error(record):
                continue
            message = self._scrubber.scrub_event({"message": record.message})["message"]
            found = clusterer.add(message)
            events.append(
                prepare_log_event(
                    message,
                    record.level or "error",
                    group_log_template(found.key_template, record.logger),
                    project_id,
                    now,
                    logger=record.logger,
                    environment=record.environment,
                    release=record.release,
                )
            )
        return events
