"""Regions as network namespaces: probes in "eu" (30 ms away) and "us" (120 ms away), the target in its own.

The tests build the namespaces (``ip netns``, veth pairs, ``tc netem``) and a hub namespace that
routes between them and runs `monitor serve`; nothing leaves them. Cutting eu's route to the
target is a regional notice and no page; 5 % loss on one region pages nobody; cutting the target
is one page naming both regions.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from regionutil import SRC, add_token, stop, wait_until

HUB_PORT = 8787
TARGET_PORT = 8080


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _in(ns: str, *args: str) -> None:
    _ip("netns", "exec", ns, *args)


@dataclass
class Net:
    hub: str
    target: str
    eu: str
    us: str
    target_link: str  # the target's side of its veth
    eu_link: str  # eu's side of its veth
    netem: str | None  # None when tc netem works here, else why not


@contextmanager
def namespaces() -> Iterator[Net]:
    tag = uuid.uuid4().hex[:5]
    names = {role: f"lr{tag}{role}" for role in ("hub", "tgt", "eu", "us")}
    try:
        _ip("netns", "add", names["hub"])
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        reason = exc.stderr.decode().strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        if os.environ.get("CI"):
            pytest.fail(f"network namespaces are required under CI: {reason}")
        print(f"skipping: cannot create network namespaces ({reason})")
        pytest.skip(f"cannot create network namespaces ({reason})")
    created = [names["hub"]]
    try:
        _in(names["hub"], "ip", "link", "set", "lo", "up")
        _in(names["hub"], "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # (role, subnet index, netem delay one way on the leaf's egress)
        for index, role in enumerate(("tgt", "eu", "us")):
            ns = names[role]
            _ip("netns", "add", ns)
            created.append(ns)
            leaf, hub_side = f"lr{tag}{role}0", f"lr{tag}{role}1"
            _ip("link", "add", leaf, "type", "veth", "peer", "name", hub_side)
            _ip("link", "set", leaf, "netns", ns)
            _ip("link", "set", hub_side, "netns", names["hub"])
            _in(ns, "ip", "addr", "add", f"10.77.{index}.2/24", "dev", leaf)
            _in(ns, "ip", "link", "set", leaf, "up")
            _in(ns, "ip", "link", "set", "lo", "up")
            _in(ns, "ip", "route", "add", "default", "via", f"10.77.{index}.1")
            _in(names["hub"], "ip", "addr", "add", f"10.77.{index}.1/24", "dev", hub_side)
            _in(names["hub"], "ip", "link", "set", hub_side, "up")
        # eu is 30 ms from the target, us 120 ms (the delay on each probe's own link). A kernel
        # without sch_netem cannot delay: the delay and loss parts are then skipped, said so.
        netem: str | None = None
        try:
            _in(names["eu"], "tc", "qdisc", "add", "dev", f"lr{tag}eu0", "root", "netem", "delay", "30ms")
            _in(names["us"], "tc", "qdisc", "add", "dev", f"lr{tag}us0", "root", "netem", "delay", "120ms")
        except subprocess.CalledProcessError as exc:
            netem = exc.stderr.decode().strip() or "tc netem failed"
            print(f"tc netem unavailable ({netem}): the delay and loss parts are skipped")
        yield Net(names["hub"], names["tgt"], names["eu"], names["us"], f"lr{tag}tgt0", f"lr{tag}eu0", netem)
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False, timeout=30)


def _spawn(ns: str, *args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _rows(store: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(store) as conn:
        return conn.execute(query).fetchall()


def _check_flips(store: Path) -> list[tuple[str, str]]:
    return [
        (str(old), str(new))
        for old, new in _rows(
            store, "SELECT old_state, new_state FROM transitions WHERE subject_kind = 'check' ORDER BY id"
        )
    ]


def test_regions_as_namespaces_regional_notice_no_page_on_loss_one_page_when_the_target_dies(tmp_path: Path) -> None:
    with namespaces() as net:
        store = tmp_path / ".launchready" / "monitor.sqlite"
        (tmp_path / "launchready.toml").write_text(
            f"""\
[monitor]
listen = "0.0.0.0:{HUB_PORT}"
probe_silence = "60s"

[[monitor.checks]]
name = "api"
url = "http://10.77.0.2:{TARGET_PORT}/"
interval = 1
timeout = 2
regions = ["eu", "us"]

[[monitor.alerts]]
name = "pager"
kind = "webhook"
url = "http://10.77.0.1:9/hook"
""",
            encoding="utf-8",
        )
        token = add_token(tmp_path, "probes")
        site = tmp_path / "site"
        site.mkdir()
        (site / "index.html").write_text("ok\n", encoding="utf-8")
        processes = [
            _spawn(net.target, "-m", "http.server", str(TARGET_PORT), "--bind", "10.77.0.2", cwd=site),
            _spawn(net.hub, "-m", "launchready", "monitor", "serve", cwd=tmp_path),
        ]
        try:
            for ns, index, region in ((net.eu, 1, "eu"), (net.us, 2, "us")):
                processes.append(
                    _spawn(
                        ns,
                        "-m",
                        "launchready",
                        "monitor",
                        "probe",
                        "--server",
                        f"http://10.77.{index}.1:{HUB_PORT}",
                        "--region",
                        region,
                        "--token",
                        token,
                        "--timeout",
                        "3",
                        cwd=tmp_path,
                    )  # fmt: skip
                )
            wait_until(
                lambda: (
                    store.exists()
                    and _rows(store, "SELECT region, state FROM check_regions ORDER BY region")
                    == [("eu", "up"), ("us", "up")]
                ),
                "both regions up",
            )
            latency = dict(_rows(store, "SELECT region, avg(latency_ms) FROM results WHERE ok GROUP BY region"))
            assert set(latency) == {"eu", "us"}
            if net.netem is None:
                # Latency is kept per region: us is the farther one.
                assert float(latency["us"]) > float(latency["eu"]) + 50, latency
                # 5 % loss on eu's link for a while: no page.
                _in(net.eu, "tc", "qdisc", "change", "dev", net.eu_link, "root", "netem", "delay", "30ms", "loss", "5%")
                seen = len(_rows(store, "SELECT id FROM results WHERE region = 'eu'"))
                wait_until(
                    lambda: len(_rows(store, "SELECT id FROM results WHERE region = 'eu'")) >= seen + 10, "lossy runs"
                )
                _in(net.eu, "tc", "qdisc", "change", "dev", net.eu_link, "root", "netem", "delay", "30ms")
                assert all(new != "down" for _, new in _check_flips(store))

            # eu loses its route to the target (but still reaches the server): regional, no page.
            _in(net.eu, "ip", "route", "add", "blackhole", "10.77.0.0/24")
            wait_until(
                lambda: _rows(store, "SELECT state FROM checks WHERE name = 'api'") == [("regional",)], "regional"
            )
            time.sleep(3)
            assert _rows(store, "SELECT state FROM checks WHERE name = 'api'") == [("regional",)]
            assert all(new != "down" for _, new in _check_flips(store))

            # The target itself goes away: one page, naming both regions with their evidence.
            _in(net.target, "ip", "link", "set", net.target_link, "down")
            wait_until(lambda: _rows(store, "SELECT state FROM checks WHERE name = 'api'") == [("down",)], "down")
            time.sleep(3)
        finally:
            errors = [stop(process) for process in reversed(processes)]
        pages = _rows(
            store,
            "SELECT t.reason, count(o.id) FROM transitions t JOIN outbox o ON o.transition_id = t.id "
            "WHERE t.subject_kind = 'check' AND t.new_state = 'down' GROUP BY t.id",
        )
        assert len(pages) == 1, (pages, errors)
        reason = str(pages[0][0])
        assert "eu: " in reason and "us: " in reason and "quorum 2" in reason, reason
        notices = _rows(
            store, "SELECT count(*) FROM transitions WHERE subject_kind = 'check' AND new_state = 'regional'"
        )
        assert notices[0][0] >= 1
        assert _rows(store, "SELECT count(*) FROM transitions WHERE subject_kind = 'probe' AND new_state = 'down'") == [
            (0,)
        ]
