"""perf.growth's judge on facts. Against the lab, tests/test_check_lab.py runs the growth test with
``feed-n-plus-one`` (the feed is caught, the indexed search beside it stays flat) and with
``search-no-index`` (the search is caught, the paginated feed stays flat)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest
from cliutil import run_cli
from perfutil import FEED_URL, lab_toml_without_perf, perf_table

from launchready.checks.perf.growth import judge, likely_cause
from launchready.config.sections.perf import GrowthSettings
from launchready.core.errors import CouldNotRun
from launchready.lab.lab import Lab
from launchready.perf import growth
from launchready.perf.growth import GrowthSeries, SeedFailed, SizePoint, run_seed, seed_argv


def series(url: str, p95: tuple[float, float], size: tuple[float, float] = (1000.0, 1000.0)) -> GrowthSeries:
    return GrowthSeries(
        "ep",
        url,
        (SizePoint(100, p95[0] / 2, p95[0], size[0], 50, 0), SizePoint(500, p95[1] / 2, p95[1], size[1], 50, 0)),
    )


def test_growth_past_the_factor_is_a_finding_naming_factor_and_cause() -> None:
    [finding] = judge([series("https://a.example/feed", (40.0, 180.0), (10_000.0, 50_000.0))], 1.5)
    assert finding.id == "perf.growth.latency-grows"
    assert "4.5x from 100 to 500 members" in finding.title
    assert "unpaginated list" in finding.remediation and "N+1" in finding.remediation


def test_flat_or_tiny_growth_is_not_a_finding() -> None:
    assert judge([series("https://a.example/x", (40.0, 55.0))], 1.5) == []
    # 3 ms -> 9 ms is 3x, but 6 ms is noise on a fast endpoint, not a launch risk.
    assert judge([series("https://a.example/x", (3.0, 9.0))], 1.5) == []
    # A tail blown up by a few outliers while the median stays put is noise, not growth.
    outliers = GrowthSeries(
        "ep", "https://a.example/x", (SizePoint(100, 2, 4, 10, 50, 0), SizePoint(500, 2, 60, 10, 50, 0))
    )
    assert judge([outliers], 1.5) == []


def test_likely_causes() -> None:
    assert "missing index" in likely_cause("https://a.example/search?q=x", 1.0)
    assert "N+1 queries or a missing index" in likely_cause("https://a.example/feed", 1.0)
    assert "unpaginated" in likely_cause("https://a.example/feed", 5.0)


def test_no_successful_response_cannot_be_judged() -> None:
    broken = GrowthSeries("ep", "https://a.example/", (SizePoint(100, 0, 0, 0, 0, 9), SizePoint(500, 1, 1, 1, 5, 0)))
    with pytest.raises(CouldNotRun, match="no successful responses at size 100"):
        judge([broken], 1.5)


def test_seed_argv_substitutes_n_without_a_shell() -> None:
    assert seed_argv("python manage.py seed --count {n} --tag 'a b'", 500) == [
        "python",
        "manage.py",
        "seed",
        "--count",
        "500",
        "--tag",
        "a b",
    ]


# -- the seed command, run for real --------------------------------------------------------------

PASSWORD = "s3cr3t-" + "db-pass-42"
TOKEN = "tok-" + "a1b2c3d4e5f6"


def seed_script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "seed.py"
    path.write_text(body, encoding="utf-8")
    return f"{sys.executable} {path} --count {{n}} --db postgres://app:{PASSWORD}@127.0.0.1/app --token={TOKEN}"


def test_failing_seed_is_reported_masked(tmp_path: Path) -> None:
    template = seed_script(
        tmp_path,
        "import sys\nprint('connecting to', sys.argv[4], 'token=' + sys.argv[5].split('=')[1])\nsys.exit(3)\n",
    )
    with pytest.raises(SeedFailed) as failed:
        asyncio.run(run_seed(template, 100))
    message = str(failed.value)
    assert "exited 3" in message and "connecting to postgres://app:" in message and "--count 100" in message
    assert PASSWORD not in message and TOKEN not in message


def test_seed_reports_progress_with_its_last_output_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(growth, "PROGRESS_EVERY_S", 0.05)
    seen = tmp_path / "progress-seen"
    template = seed_script(
        tmp_path,
        "import sys, time\nfrom pathlib import Path\n"
        f"print('inserted 40 of', sys.argv[2], 'token=' + sys.argv[5].split('=')[1], flush=True)\n"
        f"while not Path({str(seen)!r}).exists():\n    time.sleep(0.02)\n",
    )
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if "last output: inserted 40 of 500" in line:
            seen.write_text("")

    asyncio.run(run_seed(template, 500, unit="orders", progress=progress))
    assert lines[0].startswith("seeding 500 orders: ") and "--count 500" in lines[0]
    assert any("last output: inserted 40 of 500 token=" in line for line in lines)
    assert lines[-1].startswith("seeded 500 orders in ")
    assert not any(PASSWORD in line or TOKEN in line for line in lines)


def test_hanging_seed_is_stopped_at_seed_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    template = seed_script(
        tmp_path,
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n",
    )
    with pytest.raises(SeedFailed, match=r"ran past perf.growth.seed_timeout \(1 s\) and was stopped"):
        asyncio.run(run_seed(template, 100, timeout=1.0))
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(child):  # the seed's whole process group was stopped, not just the seed
        assert time.monotonic() < deadline, "the seed's child outlived the timeout"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_unit_names_what_the_sizes_count() -> None:
    [finding] = judge([series("https://a.example/orders", (40.0, 180.0))], 1.5, "orders")
    assert "4.5x from 100 to 500 orders" in finding.title
    assert any("from 100 to 500 orders" in line for line in finding.evidence)
    assert GrowthSettings().unit == "members" and GrowthSettings().seed_timeout == 300.0
    assert GrowthSettings.model_validate({"unit": "orders", "seed_timeout": 30}).unit == "orders"


def test_load_growth_command_shows_seed_progress_and_the_unit(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = perf_table(lab)
    growth_table = table["growth"]
    text = lab_toml_without_perf(lab) + (
        f'\n[perf]\nendpoints = [{{ name = "feed", path = "{FEED_URL}" }}]\n'
        f"\n[perf.growth]\nseed = {json.dumps(growth_table['seed'])}\nsizes = [20, 40]\nrate = 20.0\n"
        'duration_s = 0.5\nseed_timeout = 120\nunit = "orders"\n'
    )
    path = tmp_path / "launchready.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["load", "--growth", "-c", str(path), *lab.cli_args()], capsys)
    assert code in (0, 1), err  # 1 only if the lab's feed grows: the point here is what is printed
    assert "launchready: seeding 20 orders: " in err and "launchready: seeded 40 orders in " in err
    assert "     20 orders: p50" in out and "     40 orders: p50" in out
