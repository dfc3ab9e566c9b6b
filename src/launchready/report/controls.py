"""Terminal control characters in untrusted text, made visible instead of interpreted.

Certificate subjects, ``Server`` and ``Set-Cookie`` headers, page text and file names come from
whoever runs the audited site or repository. An ESC in them would otherwise clear the reader's
screen or retitle the window when the report is printed or ``cat``-ed. Every writer passes its
untrusted text through ``visible`` in one place: C0 controls and DEL become their Unicode
"control pictures" (ESC shows as U+241B), C1 controls become ``\\x9b``-style text. Newline and tab
are layout, not commands, and stay.

The rich render hook that applies it to terminal output is in ``report/console_controls.py``, so
plain-text writers (the pre-commit scan among them) use ``visible`` without loading rich.
"""

from __future__ import annotations

_KEPT = {"\n", "\t"}


def _picture(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}"


# str.translate table: every C0 control but newline and tab, DEL, and the C1 range.
_VISIBLE = {code: _picture(code) for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if chr(code) not in _KEPT}


def visible(text: str) -> str:
    """``text`` with every control character but newline and tab shown as a printable stand-in."""
    return text.translate(_VISIBLE)
