"""Benchmark: error intake events/s per core, and `logs cluster` lines/s against plain drain3.

Run by hand (bounded: about a minute on one core):

    .venv/bin/python bench/intake.py [--events 20000] [--seconds 10] [--lines 20000]

1. Pipeline on one core: envelopes captured from the official sentry-sdk (50 distinct errors
   with stack traces, local variables and five breadcrumbs, one scope per request as the SDK's
   web integrations do) are parsed, scrubbed, grouped and written
   to a SQLite store in the batches the HTTP layer's group commit forms under load. Events per
   CPU-second of this process. Target: at least 2,000/s.
2. HTTP end to end: the intake served by uvicorn in a separate process (one worker), loaded by
   an aiohttp client at a bounded concurrency for a bounded time. Events per CPU-second of the
   server process (its user+system time from /proc), so the client's own work is not counted.
3. Log clustering: lines/s of launchready's clusterer (masking + drain3) and of plain drain3 on
   the same labelled lines, with each one's grouping accuracy (Loghub's metric).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.logcorpus

import aiohttp
import sentry_sdk
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from launchready.intake.envelope import parse_envelope
from launchready.intake.ingest import Work, prepare_event, write_work_retrying
from launchready.intake.logs import LogClusterer, cluster_lines
from launchready.intake.projects import add_project
from launchready.intake.scrub import Scrubber
from launchready.intake.settings import IntakeSettings
from launchready.intake.store import open_store
from tests.logcorpus import grouping_accuracy, labelled_corpus, with_headers


class _Recorder(Transport):
    def __init__(self, options: dict[str, object] | None = None) -> None:
        super().__init__(options)
        self.bodies: list[bytes] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.bodies.append(envelope.serialize())


def _handler(kind: int, user_id: int, password: str) -> None:
    basket = {"items": [kind, user_id], "password": password, "note": f"user {user_id}"}
    if kind % 3 == 0:
        raise KeyError(f"sku-{kind}")
    if kind % 3 == 1:
        raise ValueError(f"order {user_id} has {len(basket)} problems")
    raise RuntimeError(f"payment {user_id} declined by provider {kind}")


def sdk_envelopes(count: int) -> list[bytes]:
    """``count`` envelopes from the official SDK: 50 distinct errors (distinct functions), varying data."""
    recorder = _Recorder()
    client = sentry_sdk.Client(
        dsn="http://k@127.0.0.1:9/1",
        transport=recorder,
        default_integrations=False,
        release="shop@2.3.4",
        environment="production",
    )
    functions = []
    for n in range(50):  # 50 distinct in-app call sites -> 50 groups
        namespace: dict[str, object] = {"_handler": _handler}
        exec(f"def checkout_step_{n}(k, u, p):\n    _handler(k, u, p)\n", namespace)  # noqa: S102
        functions.append(namespace[f"checkout_step_{n}"])
    for i in range(min(count, 500)):  # capture 500 real envelopes, replay them
        # One scope per "request", as the SDK's web integrations isolate them: a few breadcrumbs each.
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            for step in range(5):
                scope.add_breadcrumb(category="http", message=f"GET /api/items/{i}/{step}", level="info")
            scope.set_user({"id": str(i % 97)})
            try:
                functions[i % 50](i % 50, i, "hunter2")  # type: ignore[operator]
            except Exception as exc:
                sentry_sdk.capture_exception(exc)
    bodies = recorder.bodies
    out = []
    for i in range(count):
        # Each replay gets its own event id (in the envelope header and the event), or the intake
        # would rightly take it for an SDK's resend and not store it again.
        body = bodies[i % len(bodies)]
        old = json.loads(body.split(b"\n", 1)[0])["event_id"].encode()
        out.append(body.replace(old, uuid.uuid4().hex.encode()))
    return out


def bench_pipeline(envelopes: list[bytes], batch: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/monitor.sqlite", Path(tmp))
        with engine.begin() as conn:
            project = add_project(conn, "bench", time.time())
        scrubber = Scrubber()
        settings = IntakeSettings()
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(envelopes), batch):
            work = Work()
            now = time.time()
            for body in envelopes[start : start + batch]:
                for item in parse_envelope(body, 100).items:
                    if item.type == "event":
                        raw = json.loads(item.payload)
                        work.events.append(prepare_event(raw, project.id, now, scrubber, len(item.payload)))
            write_work_retrying(engine, [work], settings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        from launchready.intake.ingest import group_count

        with engine.connect() as conn:
            groups = group_count(conn)
        engine.dispose()
    return wall, cpu, groups


_SERVER = """
import sys, uvicorn
from pathlib import Path
from starlette.applications import Starlette
from launchready.intake.routes import intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.intake.store import open_store
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
engine = open_store(sys.argv[1], Path(sys.argv[2]))


async def baseline(request: Request) -> JSONResponse:
    # The same HTTP stack doing nothing but read the body and answer: what the server costs anyway.
    body = await request.body()
    return JSONResponse({"id": str(len(body))})


routes = intake_routes(engine, IntakeSettings(rate_per_second=1e9, rate_burst=10**9))
app = Starlette(routes=[*routes, Route("/baseline/", baseline, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(url: str, key: str, bodies: list[bytes], seconds: float, concurrency: int) -> tuple[int, int]:
    ok = failed = 0
    deadline = time.monotonic() + seconds
    headers = {
        "X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7",
        "Content-Type": "application/x-sentry-envelope",
    }
    async with aiohttp.ClientSession() as session:

        async def worker(offset: int) -> None:
            nonlocal ok, failed
            i = offset
            while time.monotonic() < deadline and i < len(bodies):
                async with session.post(url, data=bodies[i], headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        failed += 1
                i += concurrency

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return ok, failed


def bench_http(
    envelopes: list[bytes], seconds: float, concurrency: int
) -> tuple[tuple[int, int, float, float], tuple[int, int, float, float]]:
    import socket

    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/monitor.sqlite"
        engine = open_store(store, Path(tmp))
        with engine.begin() as conn:
            project = add_project(conn, "bench", time.time())
        engine.dispose()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-c", _SERVER, store, tmp, str(port)])
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            measured = []
            for path in ("/baseline/", f"/api/{project.id}/envelope/"):
                cpu0, wall0 = _cpu_seconds(server.pid), time.perf_counter()
                ok, failed = asyncio.run(
                    _load(f"http://127.0.0.1:{port}{path}", project.public_key, envelopes, seconds, concurrency)
                )
                measured.append((ok, failed, time.perf_counter() - wall0, _cpu_seconds(server.pid) - cpu0))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return measured[0], measured[1]


def bench_logs(lines_count: int) -> None:
    corpus = with_headers(labelled_corpus(lines_count, seed=5), seed=5)
    lines = [text for text, _ in corpus]
    truth = [name for _, name in corpus]
    start = time.process_time()
    ours = [r["template_id"] for r in cluster_lines(lines, LogClusterer())]
    ours_s = time.process_time() - start
    config = TemplateMinerConfig()
    miner = TemplateMiner(config=config)
    start = time.process_time()
    plain = [miner.add_log_message(line)["cluster_id"] for line in lines]
    plain_s = time.process_time() - start
    print(f"logs cluster, {len(lines)} raw labelled lines (timestamp/level/pid/host headers):")
    print(
        f"  launchready clusterer: {len(lines) / ours_s:,.0f} lines/s, grouping accuracy {grouping_accuracy(ours, truth):.3f}"
    )
    print(
        f"  plain drain3 (defaults): {len(lines) / plain_s:,.0f} lines/s, grouping accuracy "
        f"{grouping_accuracy([str(c) for c in plain], truth):.3f}"
    )
    print(f"  speed ratio (ours / plain drain3): {plain_s / ours_s:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    envelopes = sdk_envelopes(args.events)
    size = sum(len(b) for b in envelopes) / len(envelopes)
    wall, cpu, groups = bench_pipeline(envelopes, args.batch)
    print(
        f"pipeline (parse + scrub + group + store, SQLite, batches of {args.batch}), {len(envelopes)} "
        f"SDK envelopes of {size / 1024:.1f} KB -> {groups} groups:"
    )
    print(f"  {len(envelopes) / cpu:,.0f} events per CPU-second ({len(envelopes) / wall:,.0f}/s wall); target 2,000")
    base, intake = bench_http(envelopes, args.seconds, args.concurrency)
    print(
        f"HTTP (uvicorn + h11, one worker process, {args.concurrency} concurrent clients, {args.seconds:.0f} s max each):"
    )
    ok, failed, wall, cpu = intake
    print(
        f"  intake: {ok} accepted, {failed} refused; {ok / wall:,.0f}/s wall; {ok / cpu:,.0f} events per server CPU-second"
    )
    b_ok, _, b_wall, b_cpu = base
    print(
        f"  baseline (same server, a route that only reads the body): {b_ok / b_cpu:,.0f} requests per server CPU-second"
    )
    print(
        f"  server CPU per request: intake {cpu / ok * 1000:.2f} ms, of which the HTTP stack's own "
        f"{b_cpu / b_ok * 1000:.2f} ms ({b_cpu / b_ok / (cpu / ok):.0%})"
    )
    bench_logs(args.lines)


if __name__ == "__main__":
    main()
