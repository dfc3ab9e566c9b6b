"""KeyLines: the line each TOML key path is written on, for error messages."""

from __future__ import annotations

import tomllib

from launchready.config.locator import KeyLines

DOC = """\
# comment [not] a table
domain = "example.com"
subdomains = [
  "app",  # trailing comment
  "admin",
]
"quoted.key" = 1
a.b.c = 2
note = '''
[fake.table]
x = 1
'''
basic = \"\"\"escaped \\\"\"\" [no]\"\"\"
[environments . production]
base_url = "https://example.com"
[[redirects]]
old = "/a"
[[redirects]]
old = "/b"
inner = { deep = { key = 1 }, 'lit' = 2 }
[[redirects.sub]]
x = 1
[tool."launch ready"]
when = 1979-05-27 07:32:00Z
after = 3
"""


def test_document_is_valid_toml() -> None:
    tomllib.loads(DOC)


def test_lines() -> None:
    lines = KeyLines.scan(DOC)
    expect = {
        ("domain",): 2,
        ("subdomains",): 3,
        ("subdomains", 0): 4,
        ("subdomains", 1): 5,
        ("quoted.key",): 7,
        ("a",): 8,
        ("a", "b", "c"): 8,
        ("note",): 9,
        ("basic",): 13,
        ("environments",): 14,
        ("environments", "production"): 14,
        ("environments", "production", "base_url"): 15,
        ("redirects",): 16,
        ("redirects", 0): 16,
        ("redirects", 0, "old"): 17,
        ("redirects", 1): 18,
        ("redirects", 1, "old"): 19,
        ("redirects", 1, "inner", "deep", "key"): 20,
        ("redirects", 1, "inner", "lit"): 20,
        ("redirects", 1, "sub", 0): 21,
        ("redirects", 1, "sub", 0, "x"): 22,
        ("tool", "launch ready"): 23,
        ("tool", "launch ready", "after"): 25,
    }
    for path, line in expect.items():
        assert lines.exact(path) == line, path
    # Text inside multi-line strings is not a table.
    assert lines.exact(("fake",)) is None
    assert lines.exact(("x",)) is None


def test_fallback_to_enclosing_table_then_line_1() -> None:
    lines = KeyLines.scan(DOC)
    assert lines.line_of(("environments", "production", "health_path")) == 14
    assert lines.line_of(("redirects", 1, "status")) == 18
    assert lines.line_of(("owners", "dns")) == 1
    assert lines.line_of(()) == 1


def test_crlf_and_empty() -> None:
    assert KeyLines.scan("").line_of(("a",)) == 1
    lines = KeyLines.scan('a = 1\r\n\r\n[b]\r\nc = "x"\r\n')
    assert lines.exact(("b", "c")) == 4
