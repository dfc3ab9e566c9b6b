"""SpamAssassin's score for the messages under test, and the rules that fired, each explained.

One ``spamassassin`` process scores a whole batch (it takes several message files; its start,
compiling the rule set, costs most of its time), run with local tests only (``-L``: no DNS
blocklists, Razor or Pyzor, so a run needs no network and answers the same everywhere), without
Bayes or auto-learning (the scores must not depend on, nor change, a learned database) and
without creating a preferences file. The report template is replaced by one that prints a marker
with a per-run random nonce, the score and the threshold, then SpamAssassin's own rule table (points,
name, description): a message cannot forge a marker it does not know.

Not installed, or not answering in time: the caller is told why (a printed "skipped"), never a pass.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# SpamAssassin's own default threshold (required_score) is 5.0; receivers' filters differ, but a
# message scoring 3 or more is already close enough for another filter's rules to tip it over.
WARN_SCORE = 3.0
DEFAULT_TIMEOUT = 120.0
# spamc's default size limit: receivers running spamd pass larger messages unscored, and
# SpamAssassin's regular expressions over megabytes of hostile header can take minutes.
MAX_SCORED_BYTES = 512_000
_RULE_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_]+)\s+(.*)$")
_CONTINUATION = re.compile(r"^\s{10,}(\S.*)$")

# What a sender can do about the rules transactional mail trips most often. SpamAssassin's own
# description says what a rule saw; this says what to change.
RULE_FIXES: dict[str, str] = {
    "MIME_HTML_ONLY": "add a text/plain alternative part beside the HTML",
    "MPART_ALT_DIFF": "make the text/plain part say the same as the HTML part",
    "HTML_IMAGE_ONLY_04": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_ONLY_08": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_ONLY_12": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_ONLY_16": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_ONLY_20": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_ONLY_24": "add real text: a mail that is mostly images looks like image spam",
    "HTML_IMAGE_RATIO_02": "add more text relative to images",
    "HTML_IMAGE_RATIO_04": "add more text relative to images",
    "MISSING_DATE": "set a Date header (most mail libraries do when asked to build the message)",
    "MISSING_MID": "set a Message-ID header under your own domain",
    "MISSING_HEADERS": "set a To header",
    "MISSING_SUBJECT": "give every message a subject",
    "EMPTY_MESSAGE": "the body is empty: check the template renders",
    "MIME_HEADER_CTYPE_ONLY": "add 'MIME-Version: 1.0' (build the message with the mail library's MIME API)",
    "SUBJ_ALL_CAPS": "write the subject in sentence case",
    "DKIM_INVALID": "the DKIM signature does not verify: see the dkim findings",
    "DKIM_ADSP_NXDOMAIN": "send from a domain that exists in DNS",
    "SPF_FAIL": "list the sending service in the envelope domain's SPF record",
    "SPF_SOFTFAIL": "list the sending service in the envelope domain's SPF record",
    "FROM_EXCESS_BASE64": "do not base64-encode a plain ASCII From name",
    "DATE_IN_FUTURE_03_06": "the sending server's clock is ahead: sync it (NTP)",
    "DATE_IN_PAST_03_06": "the sending server's clock is behind or the Date is stale: sync it (NTP)",
    "HTML_FONT_SIZE_HUGE": "use normal font sizes",
    "HTML_SHORT_LINK_IMG_1": "a short HTML part that is mostly a linked image looks like spam: add text",
    "T_REMOTE_IMAGE": "images loaded from a remote host are fine, but keep enough text beside them",
    "HTML_MISSING_CTYPE": "declare the HTML part's Content-Type charset",
    "TO_NO_BRKTS_PCNT": "write To with a display name and angle brackets, e.g. 'Ann <ann@example.com>'",
    "FREEMAIL_FROM": "send from your own domain, not a free mailbox provider",
}


@dataclass(frozen=True)
class SpamRule:
    name: str
    points: float
    description: str

    def explained(self) -> str:
        fix = RULE_FIXES.get(self.name)
        return f"{self.points:+.1f} {self.name}: {self.description}" + (f" (fix: {fix})" if fix else "")


@dataclass(frozen=True)
class SpamScore:
    score: float
    required: float
    rules: tuple[SpamRule, ...]

    @property
    def is_spam(self) -> bool:
        return self.score >= self.required

    def to_json(self) -> dict[str, object]:
        return {
            "score": self.score,
            "required": self.required,
            "rules": [{"name": r.name, "points": r.points, "description": r.description} for r in self.rules],
        }


@dataclass(frozen=True)
class SpamRun:
    """One score per message given (None where that message could not be scored), or why none was."""

    scores: tuple[SpamScore | None, ...]
    skipped: str | None = None  # why no message was scored
    reasons: tuple[str | None, ...] = ()  # per message: why that one was not scored

    def reason(self, index: int) -> str | None:
        return self.skipped or (self.reasons[index] if index < len(self.reasons) else None)


def spamassassin_path() -> str | None:
    return shutil.which("spamassassin")


def command(executable: str, nonce: str, paths: Sequence[Path]) -> list[str]:
    cf = [
        "use_bayes 0",
        "bayes_auto_learn 0",
        "report_safe 0",
        "clear_report_template",
        f"report LAUNCHREADY-SA-{nonce} _SCORE_ _REQD_",
        "report _SUMMARY_",
        f"report LAUNCHREADY-SA-END-{nonce}",
    ]
    return [
        executable,
        "--local",
        "--nocreate-prefs",
        "--test-mode",
        *(f"--cf={line}" for line in cf),
        *map(str, paths),
    ]


def parse_output(text: str, nonce: str) -> list[SpamScore]:
    """Every marked report block in ``spamassassin -t`` output, in order."""
    scores: list[SpamScore] = []
    start = f"LAUNCHREADY-SA-{nonce} "
    end = f"LAUNCHREADY-SA-END-{nonce}"
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith(start):
            continue
        fields = line[len(start) :].split()
        try:
            score, required = float(fields[0]), float(fields[1])
        except (IndexError, ValueError):
            continue
        rules: list[SpamRule] = []
        while i < len(lines) and lines[i].strip() != end:
            # A wrapped description continues under its column (28 spaces in); a rule line starts
            # with its points in the first four columns.
            continuation = _CONTINUATION.match(lines[i])
            rule = None if continuation else _RULE_LINE.match(lines[i])
            if rule is not None:
                rules.append(SpamRule(rule.group(2), float(rule.group(1)), rule.group(3).strip()))
            elif continuation is not None and rules:
                last = rules[-1]
                rules[-1] = SpamRule(last.name, last.points, f"{last.description} {continuation.group(1).strip()}")
            i += 1
        scores.append(SpamScore(score, required, tuple(rules)))
    return scores


async def score_messages(raws: Sequence[bytes], *, timeout: float = DEFAULT_TIMEOUT) -> SpamRun:
    """Score every message with one ``spamassassin`` process."""
    executable = spamassassin_path()
    if executable is None:
        return SpamRun(
            (None,) * len(raws), "spamassassin is not installed (Debian/Ubuntu: apt-get install spamassassin)"
        )
    if not raws:
        return SpamRun(())
    reasons = tuple(
        f"{len(raw)} bytes: over {MAX_SCORED_BYTES}, not scored (spamd skips such messages too)"
        if len(raw) > MAX_SCORED_BYTES
        else None
        for raw in raws
    )
    scored = [index for index, reason in enumerate(reasons) if reason is None]
    if not scored:
        return SpamRun((None,) * len(raws), None, reasons)
    nonce = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="launchready-spam-") as directory:
        paths = []
        for index in scored:
            path = Path(directory) / f"{index:05d}.eml"
            path.write_bytes(raws[index])
            paths.append(path)
        process = await asyncio.create_subprocess_exec(
            *command(executable, nonce, paths),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout ends it and nothing else
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            return SpamRun((None,) * len(raws), f"spamassassin did not finish within {timeout:g} s", reasons)
        finally:
            if process.returncode is None:  # timed out or cancelled (Ctrl-C): end the group we started
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                await process.wait()
    parsed = parse_output(out.decode("utf-8", errors="replace"), nonce)
    scores: list[SpamScore | None] = [None] * len(raws)
    for index, score in zip(scored, parsed, strict=False):
        scores[index] = score
    if len(parsed) != len(scored):
        problem = " ".join(err.decode("utf-8", errors="replace").split())[:300]
        return SpamRun(
            tuple(scores),
            f"spamassassin scored {len(parsed)} of {len(scored)} message(s)"
            + (f" (exit {process.returncode}: {problem})" if problem else f" (exit {process.returncode})"),
            reasons,
        )
    return SpamRun(tuple(scores), None, reasons)
