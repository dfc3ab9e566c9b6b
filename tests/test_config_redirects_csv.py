"""`redirects = "file.csv"`: the redirect map kept as a spreadsheet, errors naming the CSV's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchready.config.loader import ConfigError, load_config


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def setup(tmp_path: Path, csv_text: str, csv_name: str = "redirects.csv") -> Path:
    csv_path = tmp_path / csv_name
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path.write_text(csv_text, encoding="utf-8")
    config = tmp_path / "launchready.toml"
    config.write_text(f'domain = "example.com"\nredirects = "{csv_name}"\n', encoding="utf-8")
    return config


def error_of(config: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_csv_without_header(tmp_path: Path) -> None:
    config = setup(tmp_path, "/old,/new\n\n# a note\n/a,https://example.com/b,302\n")
    loaded = load_config(config).config
    assert [(r.old, r.new, r.status, r.source) for r in loaded.redirects] == [
        ("/old", "/new", 301, "redirects.csv:1"),
        ("/a", "https://example.com/b", 302, "redirects.csv:4"),
    ]
    assert loaded.redirects_file == (tmp_path / "redirects.csv").resolve()


def test_csv_with_header_in_any_order(tmp_path: Path) -> None:
    config = setup(tmp_path, "\ufeffstatus,new,old\n308,/n,/o\n,/n2,/o2\n")
    loaded = load_config(config).config
    assert [(r.old, r.new, r.status) for r in loaded.redirects] == [("/o", "/n", 308), ("/o2", "/n2", 301)]


def test_csv_resolves_against_the_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup(tmp_path, "/a,/b\n", "maps/redirects.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_config(config)
    assert loaded.config.redirects[0].source == "maps/redirects.csv:1"


def test_csv_bad_status_names_csv_line(tmp_path: Path) -> None:
    config = setup(tmp_path, "old,new,status\n/a,/b,301\n/c,/d,permanent\n")
    assert error_of(config) == "redirects.csv:3: status: expected an integer, got 'permanent'"


def test_csv_status_out_of_range(tmp_path: Path) -> None:
    config = setup(tmp_path, "/a,/b\n/c,/d,200\n/e,/f,404\n")
    assert error_of(config) == "redirects.csv:2: status: expected a number of at least 300, got 200 (+1 more)"


def test_csv_missing_new(tmp_path: Path) -> None:
    config = setup(tmp_path, "/a,/b\n/c\n")
    assert error_of(config) == "redirects.csv:2: new: required key is missing"


def test_csv_bad_path(tmp_path: Path) -> None:
    config = setup(tmp_path, "/a,/b\nold-page,/c\n")
    assert (
        error_of(config) == "redirects.csv:2: old: expected a path starting with '/' or an http(s) URL, got 'old-page'"
    )


def test_csv_too_many_columns(tmp_path: Path) -> None:
    config = setup(tmp_path, "/a,/b,301,extra\n")
    assert error_of(config) == "redirects.csv:1: expected at most 3 columns (old,new,status), got 4"


def test_csv_bad_header(tmp_path: Path) -> None:
    config = setup(tmp_path, "old,target\n/a,/b\n")
    assert error_of(config) == "redirects.csv:1: expected columns old,new[,status], got old,target"


def test_csv_multiline_cell_keeps_row_start_line(tmp_path: Path) -> None:
    config = setup(tmp_path, '/a,/b\n"/c\nd",/e,1\n')
    assert error_of(config).startswith("redirects.csv:2: ")


def test_missing_csv_names_the_config_line(tmp_path: Path) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text('domain = "example.com"\n\nredirects = "nope.csv"\n', encoding="utf-8")
    assert (
        error_of(config) == f"launchready.toml:3: redirects: no such file 'nope.csv' (looked in {tmp_path.resolve()})"
    )


def test_redirects_of_the_wrong_type(tmp_path: Path) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text("redirects = 3\n", encoding="utf-8")
    assert error_of(config) == (
        "launchready.toml:1: redirects: expected an array of [[redirects]] tables or the name of a CSV file, got 3"
    )
