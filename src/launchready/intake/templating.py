"""Turn a message into its template: the parts that vary between occurrences become placeholders.

"User 4711 not found (id 9f3c2a1b7e, mail ann@example.com)" and "User 12 not found (id
0badc0ffee, mail bob@example.org)" are one problem; grouping and log clustering both see
"User <num> not found (id <hex>, mail <email>)". Order matters: a UUID is taken before its hex
runs, an e-mail before its digits, a quoted value whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_VARIABLE = re.compile(
    r"""(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"""
    r"""|(?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b)"""
    r"""|(?P<url>\bhttps?://[^\s'"<>]+)"""
    r"""|(?P<ip>\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b)"""
    r"""|(?P<quoted>'[^'\n]{0,200}'|"[^"\n]{0,200}")"""
    r"""|(?P<hex>\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b)"""
    r"""|(?P<id>\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}\b)"""
    r"""|(?P<num>[-+]?\d+(?:[.,:]\d+)*)"""
)


# Every alternative above needs a digit, an '@', "://" or a quote; words with none are left as they
# are without running the alternation over them (most words of a log line).
_VARIABLE_HINT = re.compile(r"[\d@]|://")


def _masked_words(message: str, replacement: str | Callable[[re.Match[str]], str]) -> str:
    if "'" in message or '"' in message:  # a quoted value may span words: the whole line at once
        return _VARIABLE.sub(replacement, message)
    hint = _VARIABLE_HINT.search
    sub = _VARIABLE.sub
    return " ".join(sub(replacement, w) if hint(w) else w for w in message.split(" "))


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


def template_of(message: str) -> str:
    """``message`` with numbers, ids, UUIDs, hex, IPs, URLs, e-mail addresses and quoted values replaced."""
    return _masked_words(message, _placeholder)


def parameters_masked(message: str, mask: str = "<*>") -> str:
    """``message`` with every variable part replaced by the same ``mask`` (drain3's parameter token)."""
    return _masked_words(message, mask.replace("\\", "\\\\"))
