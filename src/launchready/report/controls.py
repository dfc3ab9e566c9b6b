"""Terminal control characters in untrusted text, made visible instead of interpreted.

Certificate subjects, ``Server`` and ``Set-Cookie`` headers, page text and file names come from
whoever runs the audited site or repository. An ESC in them would otherwise clear the reader's
screen or retitle the window when the report is printed or ``cat``-ed. Every writer passes its
untrusted text through ``visible`` in one place: C0 controls and DEL become their Unicode
"control pictures" (ESC shows as U+241B), C1 controls become ``\\x9b``-style text. Newline and tab
are layout, not commands, and stay.

Bidirectional formatting characters (the U+202A-U+202E embeddings and overrides, the U+2066-U+2069
isolates, the U+200E/U+200F/U+061C marks) are commands too: a right-to-left override in a header
makes the rest of a report line read backwards ("Trojan Source"). They become ``\\u202e``-style
text; right-to-left scripts themselves need none of them and display as they are.

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


BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_C1 = tuple(range(0x80, 0xA0))

# str.translate table: every C0 control but newline and tab, DEL, the C1 range and the bidi controls.
_VISIBLE = {code: _picture(code) for code in (*range(0x20), 0x7F, *_C1) if chr(code) not in _KEPT}
_VISIBLE.update({code: f"\\u{code:04x}" for code in BIDI_CONTROLS})
# Inside a JSON string the same characters as JSON escapes: the value read back is unchanged.
_JSON_ESCAPED = {code: f"\\u{code:04x}" for code in (*_C1, *BIDI_CONTROLS)}


def visible(text: str) -> str:
    """``text`` with every control character but newline and tab shown as a printable stand-in."""
    return text.translate(_VISIBLE)


def json_visible(text: str) -> str:
    """JSON text written with ``ensure_ascii=False`` with C1 and bidi controls as ``\\uXXXX`` escapes.

    ``json.dumps`` escapes C0 controls itself; these it writes raw. Outside strings JSON has only
    ASCII, so every such character is inside a string and its escape parses to the same value.
    """
    return text.translate(_JSON_ESCAPED)
