"""Loading launchready.toml / [tool.launchready]: every error is one line naming file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchready.cli.errors import exit_code
from launchready.config.loader import ConfigError, LoadedConfig, find_config, load_config
from launchready.core.severity import Severity


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Errors name files relative to the working directory; run from the temp dir so they read
    # "launchready.toml:3" as a user would see them.
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "launchready.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message, message
    assert exit_code(caught.value) == 2  # the CLI's one line and exit 2
    return message


FULL = """\
domain = "Example.com"
subdomains = ["app", "members.example.com"]

[environments.production]
base_url = "https://example.com"

[environments.staging]
base_url = "https://staging.example.com"
health_path = "/healthz"

[email]
senders = ["google", "include:_spf.postmarkapp.com", "ip4:192.0.2.0/24"]
dkim_selectors = ["google", "pm"]
receives_mail = false

[budgets]
p95_ms = 250
error_rate = 0.02

[audit]
fail_on = "high"
skip = ["web.hsts"]
discover = false

[owners]
dns = "Ana"
on-call = "ben@example.com"

[[redirects]]
old = "/pricing.html"
new = "/pricing"

[[redirects]]
old = "/blog/old"
new = "https://blog.example.com/new"
status = 308
"""


def test_full_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    loaded = load_config(path)
    config = loaded.config
    assert loaded.path == path
    assert loaded.base_dir == tmp_path.resolve()
    assert config.domain == "example.com"
    assert config.subdomains == ("app", "members.example.com")
    assert str(config.environments["production"].base_url) == "https://example.com/"
    assert config.environments["staging"].health_path == "/healthz"
    assert config.email.senders == ("google", "include:_spf.postmarkapp.com", "ip4:192.0.2.0/24")
    assert config.email.receives_mail is False and config.email.sends_mail is True
    assert config.budgets.p95_ms == 250 and config.budgets.lcp_ms == 2000
    assert config.audit.fail_on is Severity.HIGH
    assert config.audit.skip == ("web.hsts",) and config.audit.discover is False
    assert config.owners == {"dns": "Ana", "on-call": "ben@example.com"}
    assert [(r.old, r.new, r.status) for r in config.redirects] == [
        ("/pricing.html", "/pricing", 301),
        ("/blog/old", "https://blog.example.com/new", 308),
    ]
    # Each entry knows where it is written, so a finding about it can point there.
    assert [r.source for r in config.redirects] == ["launchready.toml:29", "launchready.toml:33"]
    assert config.redirects_file is None


def test_empty_file_is_the_default_config(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, ""))
    assert loaded.config.domain is None and loaded.config.subdomains == ()


# -- malformed TOML --------------------------------------------------------------------------


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "example.com"\n\n[email]\nsenders = ["google"\nsends_mail = true\n')
    message = error_of(path)
    assert message.startswith("launchready.toml:5: invalid TOML: ")
    assert "(at line" not in message  # the position is said once, up front


def test_malformed_toml_missing_value(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, "# hi\ndomain =\n")) == "launchready.toml:2: invalid TOML: Invalid value"


def test_malformed_toml_at_end_of_document(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'domain = "example.com"\n[audit'))
    assert message.startswith("launchready.toml:2: invalid TOML: ")


def test_duplicate_key_is_invalid_toml(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'domain = "a.com"\ndomain = "b.com"\n'))
    assert message.startswith("launchready.toml:2: invalid TOML:")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_bytes(b'domain = "example.com"\n# caf\xe9\n')
    assert error_of(path) == "launchready.toml:2: invalid TOML: the file is not UTF-8 text"


# -- unknown keys ----------------------------------------------------------------------------


def test_unknown_top_level_key_with_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "example.com"\n\nsubdomain = ["app"]\n')
    assert error_of(path) == "launchready.toml:3: unknown key 'subdomain' (did you mean 'subdomains'?)"


def test_unknown_nested_key_with_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '[email]\nsenders = ["google"]\ndkim_selector = ["s1"]\n')
    assert error_of(path) == "launchready.toml:3: email: unknown key 'dkim_selector' (did you mean 'dkim_selectors'?)"


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "[audit]\nzzz = 1\n")
    assert error_of(path) == "launchready.toml:2: audit: unknown key 'zzz'"


def test_unknown_key_in_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[environments.production]\nbase_url = "https://example.com"\nhealth = "/up"\n')
    assert error_of(path) == (
        "launchready.toml:3: environments.production: unknown key 'health' (did you mean 'health_path'?)"
    )


def test_unknown_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "example.com"\n\n[budget]\np95_ms = 100\n')
    assert error_of(path) == "launchready.toml:3: unknown key 'budget' (did you mean 'budgets'?)"


def test_loader_filled_keys_cannot_be_written(tmp_path: Path) -> None:
    path = write(tmp_path, 'redirects_file = "x.csv"\n')
    assert error_of(path) == "launchready.toml:1: unknown key 'redirects_file'"
    path = write(tmp_path, '[[redirects]]\nold = "/a"\nnew = "/b"\nsource = "x:1"\n')
    assert error_of(path) == "launchready.toml:4: redirects[0]: unknown key 'source'"


# -- wrong types and values ------------------------------------------------------------------


def test_string_for_int(tmp_path: Path) -> None:
    path = write(tmp_path, '[[redirects]]\nold = "/a"\nnew = "/b"\nstatus = "301"\n')
    assert error_of(path) == "launchready.toml:4: redirects[0].status: expected an integer, got '301'"


def test_string_for_number(tmp_path: Path) -> None:
    path = write(tmp_path, '[budgets]\np95_ms = "fast"\n')
    assert error_of(path) == "launchready.toml:2: budgets.p95_ms: expected a number, got 'fast'"


def test_string_for_bool(tmp_path: Path) -> None:
    path = write(tmp_path, '[audit]\ndiscover = "no"\n')
    assert error_of(path) == "launchready.toml:2: audit.discover: expected true or false, got 'no'"


def test_out_of_range_number(tmp_path: Path) -> None:
    path = write(tmp_path, "[budgets]\nerror_rate = 5\n")
    assert error_of(path) == "launchready.toml:2: budgets.error_rate: expected a number of at most 1, got 5"


def test_bad_url(tmp_path: Path) -> None:
    path = write(tmp_path, '\n\n[environments.production]\n\nbase_url = "foo"\n')
    assert error_of(path) == "launchready.toml:5: environments.production.base_url: expected an http(s) URL, got 'foo'"


def test_non_http_url(tmp_path: Path) -> None:
    path = write(tmp_path, '[environments.production]\nbase_url = "ftp://example.com"\n')
    assert error_of(path) == (
        "launchready.toml:2: environments.production.base_url: expected an http(s) URL, got 'ftp://example.com'"
    )


def test_missing_required_key_points_at_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "example.com"\n[environments.staging]\nhealth_path = "/up"\n')
    assert error_of(path) == "launchready.toml:2: environments.staging.base_url: required key is missing"


def test_bad_severity(tmp_path: Path) -> None:
    path = write(tmp_path, '[audit]\nfail_on = "critical"\n')
    assert error_of(path) == (
        "launchready.toml:2: audit.fail_on: expected one of 'blocker', 'high', 'medium', 'low' or 'info', "
        "got 'critical'"
    )


def test_bad_subdomain_label_points_at_the_item(tmp_path: Path) -> None:
    path = write(tmp_path, 'subdomains = [\n  "app",\n  "bad_label",\n]\n')
    assert error_of(path) == (
        "launchready.toml:3: subdomains[1]: expected a host name label like 'app' or 'app.example.com', got 'bad_label'"
    )


def test_bad_domain(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "not a domain"\n')
    assert error_of(path) == "launchready.toml:1: domain: expected a domain name like 'example.com', got 'not a domain'"


def test_table_where_array_expected(tmp_path: Path) -> None:
    path = write(tmp_path, 'subdomains = "app"\n')
    assert error_of(path) == "launchready.toml:1: subdomains: expected an array, got 'app'"


def test_bad_sender(tmp_path: Path) -> None:
    path = write(tmp_path, '[email]\nsenders = ["google", "ip4:999.1.1.1"]\n')
    assert (
        error_of(path)
        == "launchready.toml:2: email.senders[1]: expected an IPv4 address or network, got 'ip4:999.1.1.1'"
    )


def test_redirect_error_points_at_the_right_array_element(tmp_path: Path) -> None:
    text = (
        "[[redirects]]\n"  # 1
        'old = "/a"\n'
        'new = "/b"\n'
        "\n"
        "[[redirects]]\n"  # 5
        'old = "/c"\n'
        'new = "/d"\n'
        "\n"
        "[[redirects]]\n"  # 9
        'old = "/e"\n'
        'new = "/f"\n'
        "status = 200\n"  # 12
    )
    assert error_of(write(tmp_path, text)) == (
        "launchready.toml:12: redirects[2].status: expected a number of at least 300, got 200"
    )


def test_redirect_missing_key_points_at_its_header(tmp_path: Path) -> None:
    text = '[[redirects]]\nold = "/a"\nnew = "/b"\n\n[[redirects]]\nold = "/c"\n'
    assert error_of(write(tmp_path, text)) == "launchready.toml:5: redirects[1].new: required key is missing"


def test_several_errors_report_the_first_by_line(tmp_path: Path) -> None:
    text = '[budgets]\np95_ms = "x"\n[audit]\nfail_on = "nope"\n'
    path = write(tmp_path, "subdomian = []\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == "launchready.toml:1: unknown key 'subdomian' (did you mean 'subdomains'?) (+2 more)"
    assert [p.line for p in caught.value.problems] == [1, 3, 5]
    assert [p.key for p in caught.value.problems] == ["", "budgets.p95_ms", "audit.fail_on"]


def test_value_with_newline_still_gives_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[owners]\ndns = 3\n[environments.production]\nbase_url = """\nnot\na url"""\n')
    message = error_of(path)
    assert message.startswith("launchready.toml:2: owners.dns: expected a string, got 3 (+1 more)")


# -- dotted keys, inline tables, quoted keys -------------------------------------------------


def test_dotted_keys(tmp_path: Path) -> None:
    path = write(tmp_path, 'domain = "example.com"\nemail.senders = ["google"]\naudit.fail_on = "bad"\n')
    assert error_of(path).startswith("launchready.toml:3: audit.fail_on: expected one of")
    good = write(tmp_path, 'email.senders = ["google"]\nenvironments.prod.base_url = "https://example.com"\n')
    config = load_config(good).config
    assert config.email.senders == ("google",)
    assert str(config.environments["prod"].base_url) == "https://example.com/"


def test_dotted_key_inside_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[environments]\n\nproduction.base_url = "nope"\n')
    assert error_of(path).startswith("launchready.toml:3: environments.production.base_url: expected an http(s) URL")


def test_inline_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[environments]\nproduction = { base_url = "https://example.com" }\nstaging = { base_url = "oops" }\n',
    )
    assert error_of(path).startswith("launchready.toml:3: environments.staging.base_url:")
    unknown = write(tmp_path, "budgets = { p95_ms = 100, lcp = 2 }\n")
    assert error_of(unknown) == "launchready.toml:1: budgets: unknown key 'lcp' (did you mean 'lcp_ms'?)"


def test_array_of_inline_tables_points_at_the_element(tmp_path: Path) -> None:
    text = 'redirects = [\n  { old = "/a", new = "/b" },\n  { old = "/c", new = "/d", status = "x" },\n]\n'
    assert error_of(write(tmp_path, text)) == "launchready.toml:3: redirects[1].status: expected an integer, got 'x'"
    ok = write(tmp_path, 'redirects = [\n  { old = "/a", new = "/b" },\n  { old = "/c", new = "/d" },\n]\n')
    assert [r.source for r in load_config(ok).config.redirects] == ["launchready.toml:2", "launchready.toml:3"]


def test_quoted_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '[environments."eu prod"]\nbase_url = "https://eu.example.com"\n\n[owners]\n"on call" = 1\n')
    assert error_of(path) == 'launchready.toml:5: owners."on call": expected a string, got 1'


def test_multiline_string_does_not_confuse_the_locator(tmp_path: Path) -> None:
    text = '[owners]\nnotes = """\n[audit]\nfail_on = 1\n"""\n\n[audit]\nfail_on = "bad"\n'
    assert error_of(write(tmp_path, text)).startswith("launchready.toml:8: audit.fail_on:")


# -- pyproject.toml --------------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "shop"
version = "1.0"

[tool.ruff]
line-length = 100

[tool.launchready]
domain = "example.com"
subdomians = ["app"]

[tool.launchready.environments.production]
base_url = "nope"

[[tool.launchready.redirects]]
old = "/a"
new = "/b"
status = "x"
"""


def test_pyproject_errors_have_the_right_lines(tmp_path: Path) -> None:
    path = write(tmp_path, PYPROJECT, "pyproject.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == "pyproject.toml:10: unknown key 'subdomians' (did you mean 'subdomains'?) (+2 more)"
    assert [str(p) for p in caught.value.problems] == [
        "pyproject.toml:10: unknown key 'subdomians' (did you mean 'subdomains'?)",
        "pyproject.toml:13: environments.production.base_url: expected an http(s) URL, got 'nope'",
        "pyproject.toml:18: redirects[0].status: expected an integer, got 'x'",
    ]


def test_pyproject_loads(tmp_path: Path) -> None:
    text = PYPROJECT.replace("subdomians", "subdomains").replace('"nope"', '"https://example.com"')
    path = write(tmp_path, text.replace('status = "x"\n', ""), "pyproject.toml")
    config = load_config(path).config
    assert config.domain == "example.com" and config.subdomains == ("app",)
    assert config.redirects[0].source == "pyproject.toml:15"


def test_pyproject_without_our_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "x"\n', "pyproject.toml")
    assert error_of(path) == "pyproject.toml: no [tool.launchready] table"


def test_pyproject_table_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool]\nlaunchready = "yes"\n', "pyproject.toml")
    assert error_of(path) == "pyproject.toml:2: tool.launchready: expected a table"


# -- finding the file ------------------------------------------------------------------------


def test_missing_explicit_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.toml") == "nope.toml: no such file"


def test_explicit_directory(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    assert error_of(tmp_path / "conf") == "conf: is a directory, expected a TOML file"


def test_zero_config_when_nothing_is_found(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    loaded = load_config(start=tmp_path)
    assert loaded == LoadedConfig(loaded.config, None, tmp_path.resolve())
    assert loaded.config.domain is None and loaded.config.audit.discover is True
    assert find_config(tmp_path) is None


def test_find_config_walks_up_to_the_git_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "web" / "src"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    config = write(repo, 'domain = "example.com"\n')
    assert find_config(deep) == config.resolve()
    loaded = load_config(start=deep)
    assert loaded.path == config.resolve()
    assert loaded.base_dir == repo.resolve()
    assert loaded.config.domain == "example.com"


def test_find_config_stops_at_the_git_root(tmp_path: Path) -> None:
    write(tmp_path, 'domain = "outside.example"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_config(repo) is None
    # A .git file (worktree, submodule) marks a root too.
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".git").write_text("gitdir: ../x\n")
    assert find_config(sub) is None


def test_find_config_prefers_launchready_toml_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, '[tool.launchready]\ndomain = "a.example"\n', "pyproject.toml")
    toml = write(tmp_path, 'domain = "b.example"\n')
    assert find_config(tmp_path) == toml.resolve()


def test_find_config_uses_pyproject_with_our_table(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    child = tmp_path / "app"
    child.mkdir()
    write(child, '[project]\nname = "x"\n', "pyproject.toml")  # not ours: keep looking
    ours = write(tmp_path, '[tool.launchready]\ndomain = "a.example"\n', "pyproject.toml")
    assert find_config(child) == ours.resolve()
    assert load_config(start=child).config.domain == "a.example"


def test_find_config_picks_a_broken_pyproject_meant_for_us(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "[tool.launchready]\ndomain = \n", "pyproject.toml")
    message = error_of(start=tmp_path)
    assert message == "pyproject.toml:2: invalid TOML: Invalid value"


def test_shown_name_from_a_subdirectory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "x = 1\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert error_of() == f"{Path('..', '..', 'launchready.toml')}:1: unknown key 'x'"


def test_shown_name_elsewhere_is_the_path_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "one").mkdir()
    path = write(tmp_path / "one", "x = 1\n")
    other = tmp_path / "two"
    other.mkdir()
    monkeypatch.chdir(other)
    assert error_of(path) == f"{path}:1: unknown key 'x'"
