"""The lab's app reports its errors with the official sentry-sdk to `monitor serve` (SQLite): with
new-error-after-deploy, the release after a deploy raises a new error, which arrives as a new
group carrying that release and the deploy marker before it, with its "new" alert delivered."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cliutil import run_cli
from netutil import closed_port
from serveutil import Receiver, Serve, running_receiver, store_rows

from launchready.config.loader import load_config
from launchready.intake.projects import add_project
from launchready.intake.store import open_store
from launchready.lab.client import LabClient
from launchready.lab.error_reporting import FIRST_VERSION, RELEASE_PREFIX
from launchready.lab.errors import LabError
from launchready.lab.faults import monitor_faults
from launchready.lab.lab import Lab, describe
from launchready.monitor.markers import record_deploy_marker


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as hook:
        yield hook


def test_new_error_after_deploy_reaches_the_monitor_as_a_new_group_after_the_marker(
    tmp_path: Path, receiver: Receiver
) -> None:
    [fault] = [f for f in monitor_faults() if f.name == "new-error-after-deploy"]
    [(_, title, _)] = fault.flips
    port = closed_port()
    monitor_url = f"http://127.0.0.1:{port}"
    engine = open_store(None, tmp_path)  # .launchready/monitor.sqlite beside the config, migrated
    try:
        with engine.begin() as conn:
            project = add_project(conn, "marketlab", time.time())
    finally:
        engine.dispose()
    with Lab(faults=[fault.name], error_dsn=project.dsn(monitor_url)) as lab:
        config = tmp_path / "launchready.toml"
        config.write_text(
            lab.config_toml() + f'\n[[monitor.alerts]]\nname = "hook"\nkind = "webhook"\nurl = "{receiver.url()}"\n',
            encoding="utf-8",
        )
        assert f"  errors sentry-sdk, release {RELEASE_PREFIX}{FIRST_VERSION} -> http://" in describe(lab)
        assert lab.seed_members(3) == 3  # the directory lists members: the new release trips on them
        client = LabClient.for_lab(lab)
        members = f"https://{lab.hosts.api}/v1/members"
        serve = Serve(config, listen=f"127.0.0.1:{port}", args=lab.cli_args()).start()
        try:
            assert client.get(members).status == 200  # the first release works
            # The deploy: the deploy tool records the marker, the new release goes live.
            marked = record_deploy_marker(
                load_config(config).config.monitor, tmp_path, environment="production", version="1.1.0", who="ci"
            )
            assert marked.startswith("deploy marker #"), marked
            release = lab.deploy("1.1.0")
            assert release == f"{RELEASE_PREFIX}1.1.0"
            for _ in range(2):  # two members hit the bug: one group, counted twice
                assert client.get(members).status == 500
            [alert] = receiver.wait_for("error", "new")
            assert serve.stop(signal.SIGTERM) == 0
        finally:
            serve.ensure_stopped()
    store = tmp_path / ".launchready" / "monitor.sqlite"
    [(group_id, group_title, first_release, deploy_version, environments)] = store_rows(
        store,
        "SELECT g.id, g.title, g.first_release, d.version, g.environments FROM error_groups g "
        "JOIN deploys d ON d.id = g.first_deploy_id",
    )
    assert (group_title, first_release, deploy_version) == (title, release, "1.1.0")
    assert "production" in environments
    flips = store_rows(
        store, "SELECT subject_kind, subject_name, new_state FROM transitions WHERE subject_kind = 'error'"
    )
    assert set(fault.flips) <= set(flips)
    assert (
        store_rows(
            store,
            "SELECT COUNT(*) FROM outbox o JOIN transitions t ON t.id = o.transition_id WHERE t.subject_kind = 'error'",
        )[0][0]
        >= 1
    )
    assert alert.payload["name"] == title
    assert f"/errors/{group_id}" in str(alert.payload)


def test_a_lab_without_a_dsn_reports_nowhere_and_a_bad_dsn_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LabError, match="error DSN: the DSN does not end with a numeric project id"):
        Lab(error_dsn="http://key@127.0.0.1:9/project")
    code, out, err = run_cli(["lab", "up", "--error-dsn", "127.0.0.1:8787/1"], capsys)
    assert (code, out) == (2, "")
    assert err == "launchready: error: error DSN: the DSN does not start with http:// or https://\n"
    with Lab(faults=["new-error-after-deploy"]) as lab:
        assert lab.error_reporting.startswith("nowhere")
        lab.seed_members(1)
        client = LabClient.for_lab(lab)
        assert client.get(f"https://{lab.hosts.api}/v1/members").status == 200
        lab.deploy("2.0.0")
        # The bug ships all the same; the app answers 500 and its error goes nowhere.
        assert client.get(f"https://{lab.hosts.api}/v1/members").status == 500


def test_without_sentry_sdk_the_lab_runs_and_says_its_errors_go_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from launchready.lab.error_reporting import SDK_MISSING

    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # what `import sentry_sdk` meets when it is not installed
    with Lab(faults=["new-error-after-deploy"], error_dsn="http://0123456789abcdef@127.0.0.1:9/1") as lab:
        assert lab.error_reporting == SDK_MISSING
        assert f"  errors {SDK_MISSING}" in describe(lab).splitlines()
        lab.seed_members(1)
        lab.deploy("2.0.0")
        assert LabClient.for_lab(lab).get(f"https://{lab.hosts.api}/v1/members").status == 500


def test_lab_deploy_talks_to_the_running_lab_up_and_the_new_error_arrives_after_its_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import re
    import subprocess
    import sys

    from serveutil import wait_until

    from launchready.intake.routes import intake_routes
    from tests.intakeutil import serve

    workdir = tmp_path / "lab"
    code, _, err = run_cli(["lab", "deploy", "1.1.0", "--workdir", str(workdir)], capsys)
    assert (code, err) == (
        2,
        f"launchready: error: --workdir {workdir}: no lab there "
        f"(`launchready lab up --workdir {workdir}` writes one)\n",
    )
    engine = open_store(None, workdir)  # the store `monitor serve --config WORKDIR/launchready.toml` uses
    try:
        with engine.begin() as conn:
            project = add_project(conn, "marketlab", time.time())
        with serve(intake_routes(engine)) as intake:
            lab_up = subprocess.Popen(
                [sys.executable, "-m", "launchready", "lab", "up", "--workdir", str(workdir),
                 "--faults", "new-error-after-deploy", "--error-dsn", project.dsn(intake)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
            )  # fmt: skip
            lines: list[str] = []
            try:
                assert lab_up.stdout is not None
                for line in lab_up.stdout:
                    lines.append(line.rstrip("\n"))
                    if line.startswith("Press Ctrl-C"):
                        break
                summary = "\n".join(lines)
                assert f"  launchready lab deploy 1.1.0 --workdir {workdir}" in lines, summary
                https_port, http_port = (
                    int(re.search(rf"^  {kind}\s+127\.0\.0\.1:(\d+)", summary, re.M).group(1))  # type: ignore[union-attr]
                    for kind in ("HTTPS", "HTTP ")
                )
                client = LabClient(
                    address="127.0.0.1", https_port=https_port, http_port=http_port, ca_bundle=str(workdir / "ca.pem")
                )
                members = "https://api.marketlab.test/v1/members"
                code, _, err = run_cli(
                    ["lab", "seed", "--members", "2", "--db", str(workdir / "marketlab.sqlite3")], capsys
                )
                assert code == 0, err
                assert client.get(members).status == 200  # the first release works
                code, _, err = run_cli(["lab", "deploy", "1.1 beta", "--workdir", str(workdir)], capsys)
                assert code == 2 and "version '1.1 beta'" in err and err.count("\n") == 1
                code, out, err = run_cli(["lab", "deploy", "1.1.0", "--workdir", str(workdir)], capsys)
                assert code == 0, err
                marker_line, deployed_line = out.splitlines()
                assert marker_line.startswith("deploy marker #"), out
                assert deployed_line == f"deployed {RELEASE_PREFIX}1.1.0: the lab's app runs it now"
                assert lab_up.stdout.readline().startswith(f"deployed {RELEASE_PREFIX}1.1.0")
                assert client.get(members).status == 500  # the new release ships the bug

                def new_group() -> list[tuple[object, ...]]:
                    return store_rows(
                        workdir / ".launchready" / "monitor.sqlite",
                        "SELECT g.first_release, d.version, d.source FROM error_groups g "
                        "JOIN deploys d ON d.id = g.first_deploy_id",
                    )

                wait_until(lambda: bool(new_group()), "the new error to reach the intake")
                assert new_group() == [(f"{RELEASE_PREFIX}1.1.0", "1.1.0", "deploy-command")]
            finally:
                lab_up.send_signal(signal.SIGTERM)
                assert lab_up.wait(60) == 0
    finally:
        engine.dispose()
    assert not (workdir / "control" / "lab.pid").exists()
    code, _, err = run_cli(["lab", "deploy", "1.2.0", "--workdir", str(workdir)], capsys)
    assert code == 2 and "the lab is not running" in err
