"""Benchmark: error intake events/s per core, and `logs cluster` lines/s against plain drain3.

Run by hand (bounded: a minute or two on one core):

    .venv/bin/python bench/intake.py [--events 20000] [--seconds 10] [--lines 20000]
    .venv/bin/python bench/intake.py --baseline-src /path/to/other/checkout/src [--repeats 3]

1. Pipeline on one core: envelopes captured from the official sentry-sdk (50 distinct errors
   with stack traces, local variables and five breadcrumbs, one scope per request as the SDK's
   web integrations do) are parsed, scrubbed, grouped and written
   to a SQLite store in the batches the HTTP layer's group commit forms under load. Events per
   CPU-second of that process. Target: at least 2,000/s.
2. HTTP end to end: the intake served by uvicorn in a separate process (one worker, set up as
   `monitor serve` sets it up), loaded by an aiohttp client at a bounded concurrency for a
   bounded time. Events per CPU-second of the server process (its user+system time from /proc),
   so the client's own work is not counted.
3. Log clustering: lines/s of launchready's clusterer (masking + drain3) and of plain drain3 on
   the same labelled lines, with each one's grouping accuracy (Loghub's metric).

With ``--baseline-src`` the pipeline and the HTTP server run once per repeat from this checkout's
``src`` and once from the baseline's, alternating which goes first, on the same envelopes: the
ratios printed (this checkout / baseline, median of the repeats) hold on a busy machine where the
absolute figures do not. The load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
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

from launchready.intake.logs import LogClusterer, cluster_lines
from tests.logcorpus import grouping_accuracy, labelled_corpus, with_headers

_SRC = Path(__file__).resolve().parents[1] / "src"


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


_PIPELINE = """
import json, pickle, sys, tempfile, time
from pathlib import Path
from launchready.intake.envelope import parse_envelope
from launchready.intake.ingest import Work, group_count, prepare_event, write_work_retrying
from launchready.intake.projects import add_project
from launchready.intake.scrub import Scrubber
from launchready.intake.settings import IntakeSettings
from launchready.intake.store import open_store
envelopes = pickle.loads(Path(sys.argv[1]).read_bytes())
batch = int(sys.argv[2])
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
    with engine.connect() as conn:
        groups = group_count(conn)
    engine.dispose()
print(json.dumps({"wall": wall, "cpu": cpu, "groups": groups}))
"""


def _env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


def bench_pipeline(envelopes_file: Path, src: Path, batch: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, groups) of the pipeline run from ``src``, in a process of its own."""
    out = subprocess.run(
        [sys.executable, "-c", _PIPELINE, str(envelopes_file), str(batch)],
        env=_env(src),
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["wall"], result["cpu"], result["groups"]


_SERVER = """
import sys, time, uvicorn
from pathlib import Path
from starlette.applications import Starlette
from launchready.intake.projects import add_project
from launchready.intake.routes import intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.intake.store import open_store
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
engine = open_store(sys.argv[1], Path(sys.argv[2]))
with engine.begin() as conn:
    project = add_project(conn, "bench", time.time())
print(project.id, project.public_key, flush=True)


async def baseline(request: Request) -> JSONResponse:
    # The same HTTP stack doing nothing but read the body and answer: what the server costs anyway.
    body = await request.body()
    return JSONResponse({"id": str(len(body))})


routes = intake_routes(engine, IntakeSettings(rate_per_second=1e9, rate_burst=10**9))
app = Starlette(routes=[*routes, Route("/baseline/", baseline, methods=["POST"])])
try:  # as `monitor serve` does, in the versions that do it
    from launchready.monitor.service import tune_garbage_collector
except ImportError:
    pass
else:
    tune_garbage_collector()
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


HttpFigures = tuple[int, int, float, float]  # accepted, refused, wall seconds, server CPU seconds


def bench_http(
    envelopes: list[bytes], src: Path, seconds: float, concurrency: int, with_stack_baseline: bool
) -> tuple[HttpFigures | None, HttpFigures]:
    """The intake served from ``src``: (the body-only route's figures, the envelope route's figures)."""
    import socket

    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/monitor.sqlite"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, store, tmp, str(port)], env=_env(src), stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            started = server.stdout.readline().split()
            if len(started) != 2:
                raise SystemExit(f"the intake server from {src} did not start (its error is above)")
            project_id, public_key = started
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if server.poll() is not None:
                        break
                    time.sleep(0.05)
            if server.poll() is not None:
                raise SystemExit(f"the intake server from {src} exited with {server.returncode} (its error is above)")
            measured: list[HttpFigures | None] = []
            for path in ("/baseline/", f"/api/{project_id}/envelope/"):
                if path == "/baseline/" and not with_stack_baseline:
                    measured.append(None)
                    continue
                cpu0, wall0 = _cpu_seconds(server.pid), time.perf_counter()
                ok, failed = asyncio.run(
                    _load(f"http://127.0.0.1:{port}{path}", public_key, envelopes, seconds, concurrency)
                )
                measured.append((ok, failed, time.perf_counter() - wall0, _cpu_seconds(server.pid) - cpu0))
        finally:
            server.terminate()
            server.wait(timeout=10)
    intake = measured[1]
    assert intake is not None
    return measured[0], intake


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


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to measure against, same run")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved repeats (with --baseline-src)")
    parser.add_argument("--no-logs", action="store_true", help="skip the log clustering part")
    args = parser.parse_args()
    envelopes = sdk_envelopes(args.events)
    size = sum(len(b) for b in envelopes) / len(envelopes)
    sources = {"this checkout": _SRC}
    if args.baseline_src is not None:
        sources["baseline"] = args.baseline_src.resolve()
    print(f"load average before: {_load_average()}; {os.cpu_count()} CPUs")
    pipeline: dict[str, list[float]] = {name: [] for name in sources}
    http: dict[str, list[float]] = {name: [] for name in sources}
    with tempfile.TemporaryDirectory() as tmp:
        envelopes_file = Path(tmp) / "envelopes.pickle"
        envelopes_file.write_bytes(pickle.dumps(envelopes))
        for repeat in range(max(1, args.repeats)):
            order = list(sources.items())
            if repeat % 2:
                order.reverse()  # neither side always runs first (caches, a neighbour's burst)
            for name, src in order:
                wall, cpu, groups = bench_pipeline(envelopes_file, src, args.batch)
                pipeline[name].append(len(envelopes) / cpu)
                print(
                    f"[{repeat + 1}] {name} pipeline (parse + scrub + group + store, SQLite, batches of {args.batch}), "
                    f"{len(envelopes)} SDK envelopes of {size / 1024:.1f} KB -> {groups} groups: "
                    f"{len(envelopes) / cpu:,.0f} events per CPU-second ({len(envelopes) / wall:,.0f}/s wall)"
                )
                stack, intake = bench_http(envelopes, src, args.seconds, args.concurrency, repeat == 0)
                ok, failed, wall, cpu = intake
                http[name].append(ok / cpu)
                print(
                    f"[{repeat + 1}] {name} HTTP (uvicorn + h11, one worker, {args.concurrency} concurrent clients, "
                    f"{args.seconds:.0f} s): {ok} accepted, {failed} refused; {ok / wall:,.0f}/s wall; "
                    f"{ok / cpu:,.0f} events per server CPU-second ({cpu / ok * 1000:.3f} ms per request)"
                )
                if stack is not None:
                    b_ok, _, _, b_cpu = stack
                    print(
                        f"    the same server's body-only route: {b_ok / b_cpu:,.0f} requests per server CPU-second, "
                        f"{b_cpu / b_ok * 1000:.3f} ms each ({b_cpu / b_ok / (cpu / ok):.0%} of an intake request)"
                    )
    print(f"load average after: {_load_average()}")
    for name in sources:
        print(
            f"{name}: pipeline {_median(pipeline[name]):,.0f} events per CPU-second, HTTP "
            f"{_median(http[name]):,.0f} events per server CPU-second (median of {len(http[name])}); target 2,000"
        )
    if "baseline" in sources:
        print(
            f"ratio this checkout / baseline ({sources['baseline']}): pipeline "
            f"{_median(pipeline['this checkout']) / _median(pipeline['baseline']):.2f}, HTTP "
            f"{_median(http['this checkout']) / _median(http['baseline']):.2f} (higher is better; per repeat: "
            + ", ".join(f"{a / b:.2f}" for a, b in zip(http["this checkout"], http["baseline"], strict=True))
            + ")"
        )
    if not args.no_logs:
        bench_logs(args.lines)


if __name__ == "__main__":
    main()
