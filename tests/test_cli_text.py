"""What the CLI prints about itself: help, the catalogue, explain."""

from __future__ import annotations

import re

import pytest
from cliutil import run_cli

from launchready.cli.main import build_command
from launchready.core.registry import load_registry


def _help_pages(command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    pages = [path]
    for name, sub in getattr(command, "commands", {}).items():
        pages += _help_pages(sub, (*path, name))
    return pages


def test_help_keeps_table_names_and_shows_no_python_types(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["load", "--help"], capsys)
    assert code == 0 and "[[perf.endpoints]]" in out
    code, out, _ = run_cli(["deploy", "--help"], capsys)
    assert code == 0 and "[smoke.deploy.ENV]" in out
    type_hint = re.compile(r"<(list\[|str>|int>|float>|bool>|path>|int range>|float range>)")
    for path in _help_pages(build_command()):
        code, out, err = run_cli([*path, "--help"], capsys)
        assert code == 0, (path, err)
        assert not type_hint.search(out), (path, type_hint.search(out))


def test_checks_piped_prints_every_id_whole(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["checks"], capsys)
    assert code == 0
    lines = out.splitlines()
    for check in load_registry().checks:
        assert f"{check.id}\t{check.meta.scope.value}\t{check.meta.title}" in lines
        for spec in check.meta.findings:
            assert f"  {spec.id}\t{spec.severity.value}\t{spec.title}" in lines


@pytest.mark.parametrize(
    ("query", "shown"),
    [("spf", "# email.spf: "), ("email.sp", "# email.spf: "), ("nxdomain", "# dns.apex.nxdomain: ")],
)
def test_explain_finds_an_abbreviated_id(query: str, shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["explain", query], capsys)
    assert code == 0, err
    assert out.startswith(shown)
    assert f"{query!r} is not an id; showing" in err


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("email.spf.mising", "did you mean email.spf.missing"),
        ("dns", "'dns' matches several ids: dns.apex, dns.cname"),
        ("zzzz", "`launchready checks` lists them"),
    ],
)
def test_explain_without_a_single_match_is_exit_2(query: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["explain", query], capsys)
    assert code == 2 and out == ""
    assert message in err
