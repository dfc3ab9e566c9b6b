"""Three `monitor serve` nodes on one PostgreSQL: every slot once, kill -9 of one, alerts delivered once;
and a second node on one SQLite store refuses to start."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitorutil import one_serve_on_pg_at_a_time, pg_schema_url
from netutil import closed_port
from regionutil import Target, healthy, launchready, serving, stop, wait_until
from sqlalchemy import create_engine, text

INTERVAL = 1.0


class Receiver:
    """A webhook receiver on 127.0.0.1 keeping every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def _config(tmp_path: Path, target: Target, hook: str) -> None:
    (tmp_path / "launchready.toml").write_text(
        f"""\
[monitor]

[[monitor.checks]]
name = "api"
url = "{target.url}"
interval = {INTERVAL:g}
timeout = 2

[[monitor.alerts]]
name = "hook"
kind = "webhook"
url = "{hook}"
""",
        encoding="utf-8",
    )


def test_three_nodes_run_each_slot_once_survive_a_kill_9_and_deliver_the_alert_once(tmp_path: Path) -> None:
    with pg_schema_url() as url, one_serve_on_pg_at_a_time(), Target() as target, Receiver().running() as receiver:
        _config(tmp_path, target, receiver.url)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

        def claims() -> list[tuple[float, str]]:
            try:
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT slot_at, node FROM slot_claims ORDER BY slot_at")).all()
            except Exception:  # noqa: BLE001 - not migrated yet
                return []
            return [(float(r.slot_at), str(r.node)) for r in rows]

        ports = [closed_port() for _ in range(3)]
        first = launchready("monitor", "serve", "--store", url, "--listen", f"127.0.0.1:{ports[0]}", cwd=tmp_path)
        nodes = [first]
        try:
            # The first node migrates the store and takes the alert worker lock before the others start.
            wait_until(lambda: healthy(f"http://127.0.0.1:{ports[0]}") or first.poll() is not None, "node 1")
            assert first.poll() is None, stop(first)
            for port in ports[1:]:
                nodes.append(
                    launchready("monitor", "serve", "--store", url, "--listen", f"127.0.0.1:{port}", cwd=tmp_path)
                )
            for port, node in zip(ports, nodes, strict=True):
                wait_until(lambda p=port, n=node: healthy(f"http://127.0.0.1:{p}") or n.poll() is not None, "nodes")
                assert node.poll() is None, stop(node)
            wait_until(lambda: len({node for _, node in claims()}) >= 2 and len(claims()) >= 8, "slots shared")
            nodes[0].send_signal(signal.SIGKILL)
            nodes[0].wait()
            killed_at = time.time()
            wait_until(lambda: len([c for c in claims() if c[0] > killed_at]) >= 4, "survivors take the slots")
            target.failing = True
            wait_until(lambda: any(b.get("status") == "down" for b in receiver.bodies), "the down alert")
            time.sleep(3 * INTERVAL)  # room for a duplicate delivery, were there one
        finally:
            errors = [stop(node) for node in nodes]
        every_claim = claims()
        with engine.connect() as conn:
            results = conn.execute(text("SELECT count(*) FROM results WHERE check_name = 'api'")).scalar_one()
            flips = conn.execute(text("SELECT new_state FROM transitions ORDER BY id")).scalars().all()
            outbox = (
                conn.execute(
                    text(
                        "SELECT o.status FROM outbox o JOIN transitions t ON t.id = o.transition_id "
                        "WHERE t.subject_kind = 'check' AND t.new_state = 'down'"
                    )
                )
                .scalars()
                .all()
            )
        engine.dispose()
    slots = [slot for slot, _ in every_claim]
    # Each slot once (the key is unique) and no slot missed, the kill included: consecutive slots
    # are one interval apart, so the survivors took over within two intervals.
    assert len(slots) == len(set(slots))
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert max(gaps) <= 2 * INTERVAL + 1e-6, (max(gaps), errors)
    # Every claimed slot ran and wrote its result, give or take what the killed node held:
    # its slot in flight and the results of its last unflushed half second.
    dead = str(every_claim[0][1])
    assert 0 <= len(slots) - results <= 2, (len(slots), results)
    after_kill = {node for slot, node in every_claim if slot > killed_at + 2 * INTERVAL}
    assert after_kill and dead not in after_kill
    # One flip to down, delivered once by whichever node holds the alert worker lock.
    assert flips.count("down") == 1, flips
    downs = [b for b in receiver.bodies if b.get("status") == "down" and b.get("kind") == "check"]
    assert len(downs) == 1, receiver.bodies
    assert outbox == ["delivered"], outbox


def test_a_second_node_on_one_sqlite_store_says_so_and_stops(tmp_path: Path) -> None:
    with Target() as target:
        (tmp_path / "launchready.toml").write_text(
            f'[monitor]\n[[monitor.checks]]\nname = "api"\nurl = "{target.url}"\ninterval = 5\n', encoding="utf-8"
        )
        with serving(tmp_path):
            second = launchready("monitor", "serve", "--listen", f"127.0.0.1:{closed_port()}", cwd=tmp_path)
            second.wait(timeout=60)
            err = stop(second)
    assert second.returncode == 2, err
    assert "runs on this SQLite store; SQLite is single-node" in err, err


class _Inner:
    """A component that records when it runs."""

    def __init__(self, name: str, running: list[str]) -> None:
        self.name = name
        self.running = running
        self._stop: asyncio.Event | None = None

    async def run(self) -> None:
        self._stop = asyncio.Event()
        self.running.append(self.name)
        try:
            await self._stop.wait()
        finally:
            self.running.remove(self.name)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()


def test_the_advisory_lock_runs_one_holder_at_a_time_and_hands_over_when_it_stops() -> None:
    from launchready.monitor.regional.cluster import AdvisoryLocked
    from launchready.monitor.store.engine import open_store

    async def scenario(url: str) -> None:
        engines = [open_store(url), open_store(url)]
        running: list[str] = []
        locked = [
            AdvisoryLocked(_Inner(f"node{i}", running), engine, 4242, retry_s=0.1) for i, engine in enumerate(engines)
        ]
        tasks = [asyncio.create_task(lock.run()) for lock in locked]
        try:
            for _ in range(100):
                if running:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            assert len(running) == 1, running
            first = running[0]
            holder = next(lock for lock in locked if lock.holding)
            holder.stop()
            for _ in range(100):
                if running and running[0] != first:
                    break
                await asyncio.sleep(0.05)
            assert len(running) == 1 and running[0] != first, running
        finally:
            for lock in locked:
                lock.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            for engine in engines:
                engine.dispose()

    with pg_schema_url() as url:
        asyncio.run(scenario(url))
