"""Hostile intake: every bad request gets a clear 4xx, the server stays up, other keys are unaffected."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import socket
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
from sqlalchemy import Engine, func, select

from launchready.intake.projects import Project, add_project
from launchready.intake.routes import intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.errors_schema import error_events
from tests.intakeutil import serve, store_engine

EVENT = {"message": "hello from a hostile test", "level": "error"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with store_engine("sqlite", tmp_path) as e:
        yield e


@pytest.fixture
def projects(engine: Engine) -> tuple[Project, Project]:
    with engine.begin() as conn:
        return add_project(conn, "victim", time.time()), add_project(conn, "bystander", time.time())


@pytest.fixture
def base(engine: Engine) -> Iterator[str]:
    settings = IntakeSettings(
        rate_per_second=5, rate_burst=10, envelope_max_bytes=256 * 1024, envelope_max_decompressed=1024 * 1024
    )
    with serve(intake_routes(engine, settings)) as url:
        yield url


def _envelope(event: dict[str, object], *, dsn: str | None = None, event_id: str | None = None) -> bytes:
    header: dict[str, object] = {"event_id": event_id or uuid.uuid4().hex}
    if dsn:
        header["dsn"] = dsn
    payload = json.dumps(event).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return json.dumps(header).encode() + b"\n" + item + b"\n" + payload + b"\n"


def _post(
    base: str, project: Project, body: bytes, *, encoding: str | None = None, auth: bool = True, path: str = "envelope"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    headers = {"Content-Type": "application/x-sentry-envelope"}
    if auth:
        headers["X-Sentry-Auth"] = f"Sentry sentry_key={project.public_key}, sentry_version=7"
    if encoding:
        headers["Content-Encoding"] = encoding
    conn.request("POST", f"/api/{project.id}/{path}/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(error_events)).scalar_one())


def test_each_encoding_is_accepted(base: str, projects: tuple[Project, Project], engine: Engine) -> None:
    project = projects[0]
    encoders: dict[str | None, Callable[[bytes], bytes]] = {
        None: lambda body: body,
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
    }
    for encoding, encode in encoders.items():
        status, _, _ = _post(base, project, encode(_envelope(EVENT)), encoding=encoding)
        assert status == 200, encoding
    assert _stored(engine) == 4


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not json at all\n", 400, "envelope header is not valid JSON"),
        (b'{"event_id":"x"}\n{"type":"event","length":500}\n{"a":1}\n', 400, "runs past the end"),
        (b'{"event_id":"x"}\n{"type":"event","length":2}\n{"a":1}\n', 400, "longer than its length"),
        (b'{"event_id":"x"}\n{"length":7}\n{"a":1}\n', 400, "has no type"),
        (b'{"event_id":"x"}\n{"type":"event","length":-1}\n', 400, "non-negative"),
        (b'{}\n{"type":"event"}\n{"message":"\xff\xfe bad"}\n', 400, "not valid UTF-8"),
        (b'{}\n{"type":"event"}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n", 400, "event item"),
        (b'{}\n{"type":"event"}\n[1,2,3]\n', 400, "not a JSON object"),
        (b"\xff\xfe\n", 400, "not valid UTF-8"),
    ],
)
def test_malformed_envelopes_are_400(
    base: str, projects: tuple[Project, Project], body: bytes, status: int, says: str
) -> None:
    got, headers, data = _post(base, projects[0], body)
    assert got == status
    assert says in json.loads(data)["detail"]
    assert says in headers["x-sentry-error"]


def test_unknown_item_types_are_skipped_not_failed(
    base: str, projects: tuple[Project, Project], engine: Engine
) -> None:
    body = _envelope(EVENT) + b'{"type":"profile_chunk_from_the_future","length":3}\nabc\n'
    status, _, _ = _post(base, projects[0], body)
    assert status == 200 and _stored(engine) == 1


def test_decompression_bombs_are_413(base: str, projects: tuple[Project, Project]) -> None:
    inflated = b"{" + b" " * (64 * 1024 * 1024) + b"}"  # 64 MB of JSON whitespace
    for encoding, bomb in [
        ("gzip", gzip.compress(inflated, 9)),
        ("deflate", zlib.compress(inflated, 9)),
        ("br", brotli.compress(inflated, quality=5)),
    ]:
        assert len(bomb) < 256 * 1024
        status, _, data = _post(base, projects[0], bomb, encoding=encoding)
        assert status == 413, encoding
        assert b"decompressed" in data


def test_corrupt_compression_is_400_and_unknown_encoding_415(base: str, projects: tuple[Project, Project]) -> None:
    assert _post(base, projects[0], b"definitely not gzip", encoding="gzip")[0] == 400
    assert _post(base, projects[0], gzip.compress(_envelope(EVENT))[:-10], encoding="gzip")[0] == 400
    assert _post(base, projects[0], b"abc", encoding="zstd-from-mars")[0] == 415


def test_a_100_mb_body_is_refused_before_it_is_read(base: str, projects: tuple[Project, Project]) -> None:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname or "", parts.port or 0), timeout=30)
    project = projects[0]
    head = (
        f"POST /api/{project.id}/envelope/ HTTP/1.1\r\nHost: x\r\n"
        f"X-Sentry-Auth: Sentry sentry_key={project.public_key}\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    sock.sendall(head + b"x" * 65536)  # the rest of the 100 MB is never sent
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413")


def test_a_chunked_body_past_the_cap_is_413(base: str, projects: tuple[Project, Project]) -> None:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    project = projects[0]

    def chunks() -> Iterator[bytes]:
        for _ in range(8):  # 512 KB against a 256 KB cap, without a Content-Length
            yield b"x" * 65536

    conn.request(
        "POST",
        f"/api/{project.id}/envelope/",
        body=chunks(),
        encode_chunked=True,
        headers={"X-Sentry-Auth": f"Sentry sentry_key={project.public_key}"},
    )
    response = conn.getresponse()
    assert response.status == 413


def test_auth_failures(base: str, projects: tuple[Project, Project], engine: Engine) -> None:
    victim, bystander = projects
    assert _post(base, victim, _envelope(EVENT), auth=False)[0] == 401
    # The other project's key does not open this project.
    wrong = Project(victim.id, victim.name, bystander.public_key)
    assert _post(base, wrong, _envelope(EVENT))[0] == 403
    # The envelope header's dsn authenticates when no header does; ?sentry_key= does too.
    dsn = victim.dsn(base)
    assert _post(base, victim, _envelope(EVENT, dsn=dsn), auth=False)[0] == 200
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request("POST", f"/api/{victim.id}/store/?sentry_key={victim.public_key}", body=json.dumps(EVENT))
    assert conn.getresponse().status == 200
    legacy = base64.b64encode(zlib.compress(json.dumps(EVENT).encode()))  # how raven-era SDKs post
    assert _post(base, victim, legacy, path="store")[0] == 200
    assert _post(base, victim, b"!!not base64 or json!!", path="store")[0] == 400
    assert _stored(engine) == 3


def test_a_flood_from_one_key_is_429_and_other_keys_are_unaffected(
    base: str, projects: tuple[Project, Project], engine: Engine
) -> None:
    victim, bystander = projects
    statuses = []
    limited_headers: dict[str, str] = {}
    for _ in range(40):  # burst 10 at 5/s: most of 40 back-to-back requests are limited
        status, headers, _ = _post(base, victim, _envelope(EVENT))
        statuses.append(status)
        if status == 429:
            limited_headers = headers
    assert statuses.count(429) >= 20 and set(statuses) <= {200, 429}
    assert int(limited_headers["retry-after"]) >= 1
    assert limited_headers["x-sentry-rate-limits"].endswith("::key")
    assert _post(base, bystander, _envelope(EVENT))[0] == 200


def test_the_server_still_answers_after_all_of_it(base: str, projects: tuple[Project, Project]) -> None:
    assert _post(base, projects[0], b"\x00" * 1000)[0] == 400
    too_many = b"{}\n" + b'{"type":"session","length":2}\n{}\n' * 101
    assert _post(base, projects[0], too_many)[0] == 413
    status, _, _ = _post(base, projects[1], _envelope(EVENT))
    assert status == 200


def test_json_lines_endpoint_groups_error_lines(base: str, projects: tuple[Project, Project], engine: Engine) -> None:
    lines = [
        {"level": "info", "message": "request 1 ok"},
        {"level": "error", "message": "cache miss storm on key user:17"},
        {"level": "ERROR", "message": "cache miss storm on key user:99"},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode() + b"\nnot json but a plain line\n"
    status, _, data = _post(base, projects[0], body, path="logs")
    assert status == 200 and json.loads(data) == {"lines": 4, "grouped": 2}
    assert _stored(engine) == 2
    assert _post(base, projects[0], b"\xff\xfe\n", path="logs")[0] == 400


def test_a_resent_event_is_stored_once(base: str, projects: tuple[Project, Project], engine: Engine) -> None:
    body = _envelope(
        EVENT, event_id="a" * 32
    )  # the same event_id each time, as an SDK retrying after a timeout sends it
    assert [_post(base, projects[1], body)[0] for _ in range(3)] == [200, 200, 200]
    assert _stored(engine) == 1


def test_session_items_are_counted(base: str, projects: tuple[Project, Project], engine: Engine) -> None:
    from launchready.monitor.store.errors_schema import error_sessions

    single = json.dumps({"sid": "s1", "status": "crashed", "attrs": {"release": "1.0", "environment": "prod"}})
    aggregate = json.dumps(
        {"aggregates": [{"started": "2026-11-30T10:00:00Z", "exited": 7, "errored": 2}], "attrs": {"release": "1.0"}}
    )
    body = (
        b"{}\n"
        + json.dumps({"type": "session", "length": len(single)}).encode()
        + b"\n"
        + single.encode()
        + b"\n"
        + json.dumps({"type": "sessions", "length": len(aggregate)}).encode()
        + b"\n"
        + aggregate.encode()
        + b"\n"
    )
    assert _post(base, projects[0], body)[0] == 200
    with engine.connect() as conn:
        rows = {(r.environment, r.status): r._mapping["count"] for r in conn.execute(select(error_sessions))}
    assert rows == {("prod", "crashed"): 1, ("", "exited"): 7, ("", "errored"): 2}
