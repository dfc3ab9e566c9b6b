"""Regional probes as real processes against `monitor serve` (uvicorn) on loopback: pull, push, spool, replay."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from regionutil import Target, add_token, launchready, serving, stop, wait_until

from launchready.monitor.regional.spool import Spool


def _config(tmp_path: Path, target: Target, *, silence: str = "60s") -> None:
    (tmp_path / "launchready.toml").write_text(
        f"""\
[monitor]
probe_silence = "{silence}"

[[monitor.checks]]
name = "api"
url = "{target.url}"
interval = 1
timeout = 2
regions = ["eu", "us"]
""",
        encoding="utf-8",
    )


def _api(base: str, path: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _status(base: str, path: str, token: str | None, body: object = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _rows(store: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(store) as conn:
        return conn.execute(query).fetchall()


def test_probes_pull_their_assignment_push_results_and_a_regional_failure_never_pages(tmp_path: Path) -> None:
    store = tmp_path / ".launchready" / "monitor.sqlite"
    with Target() as target:
        _config(tmp_path, target)
        token = add_token(tmp_path, "probes")
        with serving(tmp_path) as (_, base):
            probes = {
                region: launchready(
                    "monitor", "probe", "--server", base, "--region", region, "--token", token, cwd=tmp_path
                )
                for region in ("eu", "us")
            }
            try:
                wait_until(lambda: _rows(store, "SELECT state FROM checks WHERE name = 'api'") == [("up",)], "api up")
                wait_until(
                    lambda: _rows(store, "SELECT DISTINCT region FROM results ORDER BY region") == [("eu",), ("us",)],
                    "results from both regions",
                )
                assert _rows(store, "SELECT region, state FROM probes ORDER BY region") == [("eu", "up"), ("us", "up")]
                shown = _api(base, "/api/v1/regions", token)
                assert [r["region"] for r in shown["checks"]["api"]] == ["eu", "us"]
                assert all(r["latency_ms"] is not None for r in shown["checks"]["api"])
                assert [p["region"] for p in shown["probes"]] == ["eu", "us"]
                assert all(p["clock_offset_s"] is not None for p in shown["probes"])
                assert _status(base, "/api/v1/probe/assignment?region=eu", None) == 401
                assignment = _api(base, "/api/v1/probe/assignment?region=eu", token)
                assert [c["name"] for c in assignment["checks"]] == ["api"] and assignment["report_every_s"] == 15.0
                assert _api(base, "/api/v1/probe/assignment?region=ap", token)["checks"] == []
                assert (
                    _status(base, "/api/v1/probe/results", token, {"region": "eu", "results": [{"check": "api"}]})
                    == 400
                )
                # Only us goes on checking; eu's probe keeps reporting an empty keepalive. Then the
                # target fails: one region sees it while eu is stopped -> never more than regional.
                stop(probes["eu"])
                target.failing = True
                wait_until(
                    lambda: _rows(store, "SELECT state FROM checks WHERE name = 'api'") == [("regional",)],
                    "api regional",
                )
                flips = _rows(store, "SELECT new_state FROM transitions WHERE subject_kind = 'check' ORDER BY id")
                assert ("down",) not in flips
            finally:
                errors = {region: stop(process) for region, process in probes.items()}
        latency = _rows(
            store, "SELECT region, count(*), min(latency_ms) >= 0 FROM results GROUP BY region ORDER BY region"
        )
        assert [row[0] for row in latency] == ["eu", "us"] and all(row[2] for row in latency), latency
        assert "running 1 checks (api)" in errors["us"], errors["us"]


def test_server_down_for_a_while_loses_nothing_replays_in_order_and_raises_no_alert(tmp_path: Path) -> None:
    store = tmp_path / ".launchready" / "monitor.sqlite"
    spool_path = tmp_path / "eu-spool.sqlite"
    with Target() as target:
        _config(tmp_path, target, silence="5m")
        token = add_token(tmp_path, "probe-eu")
        with serving(tmp_path) as (server, base):
            port = base.rsplit(":", 1)[1]
            probe = launchready(
                "monitor", "probe", "--server", base, "--region", "eu", "--token", token,
                "--spool", str(spool_path), cwd=tmp_path,
            )  # fmt: skip
            try:
                wait_until(lambda: len(_rows(store, "SELECT id FROM results WHERE region = 'eu'")) >= 3, "eu results")
                # The server is stopped here: the probe goes on checking and spools.
                stop(server)
                spooled_at_least = 8
                wait_until(lambda: _spooled(spool_path) >= spooled_at_least, "results spooled while the server is down")
                with serving(tmp_path, port=int(port)):
                    wait_until(lambda: _spooled(spool_path) == 0, "the spool replayed")
                    hits_after_replay = target.hits
                    wait_until(lambda: target.hits > hits_after_replay + 2, "checks go on")
                    wait_until(lambda: _spooled(spool_path) == 0, "the spool drained")
            finally:
                err = stop(probe)
    assert "unreachable" in err and "answers again" in err, err
    ats = [row[0] for row in _rows(store, "SELECT at FROM results WHERE region = 'eu' ORDER BY id")]
    assert ats == sorted(ats), "results were not replayed in order"
    # Nothing lost: one result per second of the whole run, no gap over the outage.
    gaps = [b - a for a, b in zip(ats, ats[1:], strict=False)]
    assert max(gaps) < 2.5, max(gaps)
    assert _rows(store, "SELECT count(*) FROM transitions WHERE new_state = 'down'") == [(0,)]
    assert _rows(store, "SELECT state FROM probes WHERE region = 'eu'") == [("up",)]


def _spooled(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_spool_drops_the_oldest_past_its_limit_and_reports_the_count(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite", limit=5)
    for i in range(8):
        spool.add([{"check": "api", "at": 1000.0 + i, "ok": True}])
    last_id, batch = spool.batch(100)
    assert [item["at"] for item in batch] == [1003.0, 1004.0, 1005.0, 1006.0, 1007.0]
    assert spool.dropped == 3
    spool.remove_through(last_id)
    spool.reported_dropped(3)
    assert len(spool) == 0 and spool.dropped == 0
    spool.close()
    # The spool is a file: a restarted probe finds what was left.
    again = Spool(tmp_path / "spool.sqlite", limit=5)
    again.add([{"check": "api", "at": 2000.0, "ok": False}])
    assert again.batch(10)[1][0]["at"] == 2000.0
    again.close()


def test_a_probe_with_a_wrong_clock_over_https_writes_results_at_the_servers_time(tmp_path: Path) -> None:
    import asyncio
    import time

    from sqlalchemy import select

    from launchready.config.sections.monitor import MonitorConfig
    from launchready.core.net import NetSettings
    from launchready.lab.ca import LabCA
    from launchready.monitor.regional.agent import ProbeAgent
    from launchready.monitor.store.engine import open_store
    from launchready.monitor.store.repository import CheckSpec, sync_checks
    from launchready.monitor.store.schema import probes, results
    from launchready.monitor.web import create_app
    from launchready.monitor.web.auth import add_api_token
    from launchready.monitor.web.probe_api import ProbeApi
    from tests.monitor_web_support import serve

    ca = LabCA.create()
    cert, key = ca.issue(["127.0.0.1"]).write(tmp_path, "monitor")
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    engine = open_store(f"sqlite:///{tmp_path / 'monitor.sqlite'}")
    with Target() as target:
        monitor = MonitorConfig.model_validate(
            {"checks": [{"name": "api", "url": target.url, "interval": 1, "regions": ["eu", "us"]}]}
        )
        with engine.begin() as conn:
            sync_checks(conn, [CheckSpec("api", "http", target.url, 1.0)], time.time())
        token = add_api_token(engine, "probe-eu", time.time())
        api = ProbeApi(engine, monitor, lambda *_: [])
        with serve(create_app(engine, extra_routes=api.routes()), tls=(cert, key, bundle)) as served:
            spool = Spool(tmp_path / "spool.sqlite")
            # The probe's clock is an hour ahead; the server's is right.
            agent = ProbeAgent(
                f"https://127.0.0.1:{served.port}",
                "eu",
                token,
                NetSettings(timeout=5.0, ca_bundle=bundle),
                spool,
                push_interval_s=0.2,
                wall=lambda: time.time() + 3600,
            )

            async def run() -> None:
                task = asyncio.create_task(agent.run())
                deadline = time.monotonic() + 60
                while agent.stats.pushed < 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                agent.stop()
                await task

            asyncio.run(run())
            spool.close()
        with engine.connect() as conn:
            ats = conn.execute(select(results.c.at).where(results.c.region == "eu")).scalars().all()
            offset = conn.execute(select(probes.c.clock_offset_s).where(probes.c.region == "eu")).scalar_one()
    engine.dispose()
    assert len(ats) >= 3
    assert all(abs(at - time.time()) < 120 for at in ats), ats
    assert offset is not None and abs(offset + 3600) < 5, offset


def test_a_silent_probe_is_an_alert_and_its_return_a_recovery(tmp_path: Path) -> None:
    import signal

    store = tmp_path / ".launchready" / "monitor.sqlite"
    with Target() as target:
        _config(tmp_path, target, silence="5s")
        token = add_token(tmp_path, "probe-eu")
        with serving(tmp_path) as (_, base):
            args = ("monitor", "probe", "--server", base, "--region", "eu", "--token", token)
            probe = launchready(*args, cwd=tmp_path)
            try:
                wait_until(lambda: _rows(store, "SELECT state FROM probes WHERE region = 'eu'") == [("up",)], "eu up")
                probe.send_signal(signal.SIGKILL)
                probe.wait()
                wait_until(
                    lambda: _rows(store, "SELECT state FROM probes WHERE region = 'eu'") == [("down",)], "eu silent"
                )
                probe = launchready(*args, cwd=tmp_path)
                wait_until(lambda: _rows(store, "SELECT state FROM probes WHERE region = 'eu'") == [("up",)], "eu back")
            finally:
                stop(probe)
    flips = _rows(
        store,
        "SELECT subject_name, old_state, new_state, reason FROM transitions WHERE subject_kind = 'probe' ORDER BY id",
    )
    eu = [row for row in flips if row[0] == "eu"]
    assert [(old, new) for _, old, new, _ in eu] == [("new", "up"), ("up", "down"), ("down", "up")]
    assert "region eu stopped reporting" in str(eu[1][3])
    # us never reported at all: that is an alert too, never a silent gap.
    us = [row for row in flips if row[0] == "us"]
    assert [(old, new) for _, old, new, _ in us] == [("new", "down")]
