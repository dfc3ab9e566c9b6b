"""Three monitor nodes on one PostgreSQL against one node: checks per CPU-minute and queries per check.

Run by hand (PostgreSQL at 127.0.0.1:5432, trust auth, database ``test``)::

    .venv/bin/python bench/monitor_cluster.py [--checks 40] [--interval 2] [--seconds 20]

Each node is its own process running the shared scheduler (slot claims, judging in the store)
over the same ``--checks`` HTTP checks of a loopback target served by this process. The
baseline is one node over the same checks, measured in the same run; the bench prints slots
run, checks per minute, the nodes' CPU time, checks per CPU-minute (per core) and the SQL
statements each check cost (claims included), counted with SQLAlchemy's cursor events in every
node. Load is bounded: ``checks / interval`` runs a second, for ``--seconds``, in a schema
dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, event, text

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _node(store: str, target: str, checks: int, interval: float, seconds: float) -> None:
    from launchready.config.sections.monitor import MonitorConfig
    from launchready.core.net import NetSettings
    from launchready.monitor.regional.cluster import SharedScheduler
    from launchready.monitor.store.engine import open_store

    engine = open_store(store)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    config = MonitorConfig.model_validate(
        {"checks": [{"name": f"c{i:03d}", "url": target, "interval": interval, "timeout": 2} for i in range(checks)]}
    )
    scheduler = SharedScheduler(config, engine, NetSettings(timeout=2.0), lambda *_: [], claim_slots=True)

    async def run() -> None:
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(seconds)
        scheduler.stop()
        await task

    logging.getLogger("launchready").setLevel(logging.ERROR)
    started = statements
    before = resource.getrusage(resource.RUSAGE_SELF)
    asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    engine.dispose()
    print(
        json.dumps(
            {
                "runs": sum(scheduler.runs.values()),
                "statements": statements - started,
                # CPU of the run itself, not of the interpreter's start and the imports.
                "cpu_s": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
            }
        )
    )


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def _scenario(nodes: int, store: str, target: str, args: argparse.Namespace) -> dict[str, float]:
    admin = create_engine(ADMIN_URL)
    schema = store.rsplit("%3D", 1)[1]
    with admin.begin() as conn:
        conn.execute(text(f'TRUNCATE "{schema}".slot_claims, "{schema}".results, "{schema}".check_regions'))
    admin.dispose()
    command = [
        sys.executable,
        __file__,
        "--node",
        store,
        target,
        str(args.checks),
        str(args.interval),
        str(args.seconds),
    ]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(nodes)]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=args.seconds + 120)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    runs = sum(r["runs"] for r in reports)
    cpu = sum(r["cpu_s"] for r in reports)
    statements = sum(r["statements"] for r in reports)
    return {
        "nodes": nodes,
        "runs": runs,
        "checks_per_min": runs / args.seconds * 60,
        "cpu_s": cpu,
        "checks_per_cpu_min": runs / (cpu / 60) if cpu else 0.0,
        "queries_per_check": statements / runs if runs else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=40)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--node", nargs=5, metavar=("STORE", "TARGET", "CHECKS", "INTERVAL", "SECONDS"))
    args = parser.parse_args()
    if args.node:
        store, target, checks, interval, seconds = args.node
        _node(store, target, int(checks), float(interval), float(seconds))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from launchready.monitor.store.engine import open_store

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_address[1]}/health"
    schema = f"bench_cluster_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    try:
        open_store(store).dispose()
        print(f"{args.checks} checks every {args.interval:g}s for {args.seconds:g}s against {target}")
        results = [_scenario(1, store, target, args), _scenario(3, store, target, args)]
        for r in results:
            print(
                f"{r['nodes']} node(s): {r['runs']:.0f} checks, {r['checks_per_min']:.0f}/min, "
                f"CPU {r['cpu_s']:.1f}s, {r['checks_per_cpu_min']:.0f} checks per CPU-minute, "
                f"{r['queries_per_check']:.2f} queries per check"
            )
        one, three = results
        print(
            f"three nodes / one: checks {three['runs'] / one['runs']:.2f}x, "
            f"checks per CPU-minute {three['checks_per_cpu_min'] / one['checks_per_cpu_min']:.2f}x, "
            f"queries per check {three['queries_per_check'] / one['queries_per_check']:.2f}x"
        )
        with admin.connect() as conn:
            duplicates = conn.execute(
                text(
                    f'SELECT count(*) FROM (SELECT check_name, slot_at FROM "{schema}".slot_claims '
                    "GROUP BY check_name, slot_at HAVING count(*) > 1) d"
                )
            ).scalar_one()
        print(f"slots claimed twice: {duplicates}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        server.shutdown()


if __name__ == "__main__":
    main()
