"""Facts every renderer shows the same way: counts, plain-language impact, timestamps, locations.

Renderers stay ignorant of individual checks: everything here is derived from the findings and
results an ``AuditRun`` carries, never from check ids.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from launchready.core.finding import CheckResult, Finding, Status
from launchready.core.run import AuditRun, Change, Verdict
from launchready.core.severity import Impact, Severity

# Worst first: the order every table, count and badge uses.
SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
STATUSES: tuple[Status, ...] = (Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED)

# What a non-engineer should read for each business flow: the consequence, not the mechanism.
IMPACT_LABEL: dict[Impact, str] = {
    Impact.SIGNUP: "Sign-up",
    Impact.LOGIN: "Login",
    Impact.EMAIL: "Email delivery",
    Impact.PAYMENTS: "Payments",
    Impact.TRUST: "Trust and reputation",
    Impact.DATA_EXPOSURE: "Data exposure",
    Impact.AVAILABILITY: "Availability",
    Impact.PERFORMANCE: "Performance",
}

IMPACT_PLAIN: dict[Impact, str] = {
    Impact.SIGNUP: "New users may be unable to sign up, so launch traffic does not turn into members.",
    Impact.LOGIN: "Members may be unable to log in, or their sessions may be at risk.",
    Impact.EMAIL: (
        "Your emails (verification links, receipts, invites) may land in spam or be forged by "
        "someone else in your name."
    ),
    Impact.PAYMENTS: "Checkout or payment confirmation may fail, which costs money directly.",
    Impact.TRUST: "Browsers or mail providers may warn visitors, which makes the product look unsafe.",
    Impact.DATA_EXPOSURE: "Private data of customers or the company could be seen by people who should not see it.",
    Impact.AVAILABILITY: "The site or part of it may be unreachable for some or all visitors.",
    Impact.PERFORMANCE: "Pages may load slowly, so visitors give up before they convert.",
}

SEVERITY_PLAIN: dict[Severity, str] = {
    Severity.BLOCKER: "Blocker: fix before launch",
    Severity.HIGH: "High: fix this week",
    Severity.MEDIUM: "Medium: fix soon after launch",
    Severity.LOW: "Low: worth fixing",
    Severity.INFO: "Info: for your awareness",
}

VERDICT_PLAIN: dict[Verdict, str] = {
    Verdict.PAUSE: "Do not launch yet: something will break for your users.",
    Verdict.SHIP_WITH_FIXES: "You can launch, but fix the listed items first or right after.",
    Verdict.SHIP: "Nothing found that should stop the launch.",
}

NOT_CONFIGURED_LEAD = (
    "These checks did not run because the configuration does not declare what they test, so they are "
    "not verified (mark one not applicable with [audit] not_applicable if it truly does not apply):"
)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def human_utc(moment: datetime) -> str:
    """Short form for people: ``2024-05-01 14:03 UTC``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration_seconds(run: AuditRun) -> float:
    return max(0.0, (run.finished - run.started).total_seconds())


def did_not_apply(run: AuditRun) -> tuple[CheckResult, ...]:
    """Skipped results that are not "not configured": the check does not apply here (no mail
    received, no repository given, marked not applicable), each with its reason."""
    return tuple(r for r in run.results if r.status is Status.SKIPPED and not r.configure)


def open_findings(run: AuditRun) -> tuple[Finding, ...]:
    """The findings that count: every one not accepted (an expired acceptance is open again)."""
    return tuple(f for f in run.findings if f.accepted is None)


def accepted_findings(run: AuditRun) -> tuple[Finding, ...]:
    """Findings accepted for now: every report lists them as accepted, none drops them."""
    return tuple(f for f in run.findings if f.accepted is not None)


def acceptance_note(finding: Finding) -> str:
    if finding.accepted is None:
        return ""
    a = finding.accepted
    return f"accepted by {a.by} until {a.until.isoformat()}: {a.reason}"


def severity_counts(run: AuditRun) -> dict[Severity, int]:
    """Every severity, zeros included, worst first; accepted findings are not counted."""
    counts = {s: 0 for s in SEVERITIES}
    for finding in open_findings(run):
        counts[finding.severity] += 1
    return counts


def status_counts(run: AuditRun) -> dict[Status, int]:
    counts = {s: 0 for s in STATUSES}
    for result in run.results:
        counts[result.status] += 1
    return counts


def check_outcomes(run: AuditRun) -> tuple[int, int]:
    """(check runs with a finding to fix, check runs with informational notes only): the split
    JUnit makes (a failure needs more than a note), so every format counts the same way."""
    failed = [r for r in run.results if r.status is Status.FAILED and any(f.accepted is None for f in _current(run, r))]
    notes_only = sum(
        1 for r in failed if all(f.severity is Severity.INFO for f in _current(run, r) if f.accepted is None)
    )
    return len(failed) - notes_only, notes_only


def _current(run: AuditRun, result: CheckResult) -> tuple[Finding, ...]:
    """A result's findings as the run reports them (with their acceptance marks)."""
    by_fingerprint = {f.fingerprint: f for f in run.findings}
    return tuple(by_fingerprint.get(f.fingerprint, f) for f in result.findings)


def change_label(run: AuditRun, finding: Finding) -> str | None:
    """``NEW`` / ``still open`` when the run was compared with a previous one, else None."""
    change = run.change_of(finding)
    if change is Change.NEW:
        return "NEW"
    if change is Change.STILL_OPEN:
        return "still open"
    return None


def fixed_findings(run: AuditRun) -> tuple[Finding, ...]:
    if run.delta is None:
        return ()
    return run.delta.fixed


def has_previous(run: AuditRun) -> bool:
    return run.delta is not None and run.delta.previous_run_id is not None


@dataclass(frozen=True)
class FileLocation:
    path: str
    line: int
    column: int | None = None


_FILE_LINE = re.compile(r"(?P<path>[^\s:][^:]*?):(?P<line>[1-9][0-9]*)(?::(?P<col>[1-9][0-9]*))?")


def file_location(target: str, run: AuditRun) -> FileLocation | None:
    """``path:line[:col]`` targets are source locations; hosts (even ``host:port``) and URLs are not.

    ``settings.py:443`` and ``api.example.com:443`` look alike, so a name counts as a host when it
    is an IP address, the audited domain or a name under it, or a host the run discovered.
    """
    if "://" in target:
        return None
    match = _FILE_LINE.fullmatch(target.strip())
    if match is None:
        return None
    path = match["path"]
    if _is_host(path, run):
        return None
    col = match["col"]
    return FileLocation(path=path, line=int(match["line"]), column=int(col) if col else None)


def _is_host(name: str, run: AuditRun) -> bool:
    bare = name.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    if "/" in name or "\\" in name:
        return False
    lowered = name.lower().rstrip(".")
    apex = run.target.lower().rstrip(".")
    if lowered == apex or lowered.endswith("." + apex):
        return True
    return any(lowered == host.name.lower().rstrip(".") for host in run.hosts)


def is_link(reference: str) -> bool:
    """Only web links become clickable; anything else (e.g. ``javascript:``) stays plain text."""
    return reference.startswith(("https://", "http://"))


def finding_titles(findings: tuple[Finding, ...]) -> str:
    return "; ".join(f.title for f in findings)


def worst(findings: tuple[Finding, ...]) -> Severity | None:
    if not findings:
        return None
    return max(findings, key=lambda f: f.severity.rank).severity


def code_spans(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` on backtick pairs: [(is_code, part), ...].

    Remediations quote commands and records between backticks (Markdown style); renderers that
    can show code do so. An unpaired backtick stays literal text.
    """
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # odd number of backticks: the last one has no partner
        last = pieces.pop()
        pieces[-1] += "`" + last
    return [(i % 2 == 1, part) for i, part in enumerate(pieces) if part]


# -- grouping: one entry per finding id, related files merged into one action ------------------

# How many actions the "Do these 3 first" block names.
TOP_ACTIONS = 3


@dataclass(frozen=True)
class FindingGroup:
    """Every finding of one id (the same problem on several targets), in rank order."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def id(self) -> str:
        return self.first.id

    @property
    def title(self) -> str:
        return self.first.title

    @property
    def severity(self) -> Severity:
        return max(self.findings, key=lambda f: f.severity.rank).severity

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.target for f in self.findings))


@dataclass(frozen=True)
class Action:
    """One thing to do: a group of findings, with groups about the same repository file merged
    into it (a committed credential file and the secret found in it are fixed together)."""

    groups: tuple[FindingGroup, ...]
    rank: int  # 1-based position among the actions

    @property
    def lead(self) -> FindingGroup:
        return self.groups[0]

    @property
    def severity(self) -> Severity:
        return max((g.severity for g in self.groups), key=lambda s: s.rank)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for g in self.groups for f in g.findings)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for g in self.groups for t in g.targets))

    @property
    def title(self) -> str:
        if len(self.groups) == 1:
            return self.lead.title
        return " + ".join(dict.fromkeys(g.title for g in self.groups))

    @property
    def fix(self) -> str:
        """What to do, in order: a leaked credential is rotated before its file is removed, since
        removing it does not un-leak it."""
        if len(self.groups) > 1 and any(f.impact is Impact.DATA_EXPOSURE for f in self.findings):
            files = ", ".join(sorted({_file_of(t) for t in self.targets}))
            return f"Rotate these credentials, then remove the file from the repository ({files}). " + " ".join(
                dict.fromkeys(g.first.remediation for g in self.groups)
            )
        return self.lead.first.remediation


def _file_of(target: str) -> str:
    """``path`` of a ``path:line[:col]`` target (the target itself otherwise)."""
    match = _FILE_LINE.fullmatch(target.strip())
    return match["path"] if match else target


def _looks_like_path(target: str, run: AuditRun) -> bool:
    """A repository path without a line (``.env``, ``deploy/id_rsa``): not a URL, not a host."""
    text = target.strip()
    if not text or "://" in text or " " in text or _is_host(text, run):
        return False
    return "/" in text or text.startswith(".")


def group_findings(run: AuditRun) -> tuple[FindingGroup, ...]:
    """One group per finding id, in the order of each id's best-ranked finding."""
    groups: dict[str, list[Finding]] = {}
    for finding in open_findings(run):
        groups.setdefault(finding.id, []).append(finding)
    return tuple(FindingGroup(tuple(fs)) for fs in groups.values())


def actions(run: AuditRun) -> tuple[Action, ...]:
    """The grouped findings as actions, worst first; groups whose findings sit in the same
    repository files become one action."""
    groups = group_findings(run)
    files_of: list[set[str]] = []
    for group in groups:
        paths = set()
        for target in group.targets:
            location = file_location(target, run)
            if location is not None:
                paths.add(location.path)
            elif _looks_like_path(target, run):
                paths.add(target.strip())
        files_of.append(paths)
    merged: list[list[int]] = []
    owner: dict[str, int] = {}
    for index, paths in enumerate(files_of):
        home = next((owner[p] for p in sorted(paths) if p in owner), None)
        if home is None:
            merged.append([index])
            home = len(merged) - 1
        else:
            merged[home].append(index)
        for path in paths:
            owner.setdefault(path, home)
    built = [tuple(groups[i] for i in members) for members in merged]
    built.sort(key=lambda gs: -max(g.severity.rank for g in gs))  # stable: rank order within a severity
    return tuple(Action(groups=gs, rank=i) for i, gs in enumerate(built, start=1))


def top_actions(run: AuditRun, limit: int = TOP_ACTIONS) -> tuple[Action, ...]:
    """The first actions, leaving out informational ones: "Do these 3 first" names real work."""
    return tuple(a for a in actions(run) if a.severity is not Severity.INFO)[:limit]


def targets_line(targets: tuple[str, ...], shown: int = 3) -> str:
    """``a, b, c +4 more``: the targets of a group on one line."""
    head = ", ".join(targets[:shown])
    return head + (f" +{len(targets) - shown} more" if len(targets) > shown else "")


def top_heading(count: int) -> str:
    return "Do this first" if count == 1 else f"Do these {count} first"


def short_fix(text: str, limit: int = 160, at_least: int = 60) -> str:
    """A fix cut to about two lines for the first actions (the full fix is one -v away): at the
    last sentence end within ``limit`` (a sentence of ``at_least`` characters or more), else at a
    word boundary; never inside a backtick-quoted command."""
    if len(text) <= limit:
        return text
    inside = [False] * (len(text) + 1)
    quoted = False
    for index, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        inside[index + 1] = quoted
    sentence_ends = [m.end() for m in re.finditer(r"\. ", text) if at_least <= m.end() <= limit and not inside[m.end()]]
    if sentence_ends:
        return text[: sentence_ends[-1]].rstrip() + " …"
    spaces = [m.start() for m in re.finditer(" ", text) if m.start() <= limit and not inside[m.start()]]
    cut = spaces[-1] if spaces else limit
    return text[:cut].rstrip(" ,;:") + " …"
