"""The lab's performance surface: endpoints whose cost depends on data size, and their faults.

Database round trips are simulated (QUERY_RTT_S each, as a database across a network would cost),
on top of the real SQLite queries, so latency follows the *number of queries* the way it does in
production and not the speed of an in-process SQLite file:

- api.  GET /v1/feed: the community feed. Clean: one JOIN, paginated (20 posts). Fault
  ``feed-n-plus-one``: one query per member and no pagination (latency and size grow with members).
- api.  GET /v1/members/search?q=: clean: an indexed lookup. Fault ``search-no-index``: a full
  scan whose cost grows with the member count (same response size).
- static assets on apex and app: fault ``etag-ignored`` sends them with an ETag but ignores
  If-None-Match, so every refresh downloads them again (no 304).
- app.  GET /: fault ``heavy-page`` serves a home page whose hero image is ~900 kB.
- app.  GET /feed: the logged-in members' feed, loaded with a smoke-flow login (``perf_toml``).
  Fault ``session-drops-under-load``: after SESSION_DROP_AFTER feed views a session is forgotten
  and the member is sent to /login (a session store evicting under load).

``seed_members(db, n)`` makes the number of seeded members exactly n (what `launchready lab seed
--members N` and the growth test's seed hook call).
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from launchready.lab.errors import LabError
from launchready.lab.store import hash_password

QUERY_RTT_S = 0.0003
# Scanning rows without an index: this much per row examined.
SCAN_ROW_S = 0.0002
SEED_DOMAIN = "seed.marketlab.test"
HERO_PATH = "/perf/hero.bmp"
MEMBER_FEED_PATH = "/feed"
SESSION_DROP_AFTER = 5
_HERO_SIZE = (640, 480)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _hero_bmp(width: int, height: int) -> bytes:
    """An uncompressed 24-bit BMP (about 900 kB at 640x480): heavy on the wire, valid for any browser."""
    row = bytearray()
    for x in range(width):
        row += bytes(((x * 255) // width, 120, 255 - (x * 255) // width))
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = bytes(row) * height
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


_HEAVY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Market Lab</title></head>
<body><h1>Market Lab</h1><img src="{hero}" width="640" height="480" alt="The community at work">
<p>Join the marketplace for makers.</p></body></html>
"""


@web.middleware
async def _heavy_home(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "GET" and request.path == "/":
        return web.Response(text=_HEAVY_PAGE.format(hero=HERO_PATH), content_type="text/html")
    return await handler(request)


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db), timeout=10, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def seed_members(db: Path, n: int) -> int:
    """Make exactly ``n`` seeded members (each with one post) exist; returns how many there are."""
    if n < 0:
        raise LabError("the member count must not be negative")
    # Seeded members cannot log in: one shared hash of a random-free placeholder keeps seeding fast
    # (scrypt per member would take seconds for a few hundred).
    placeholder = hash_password("seeded-member-no-login", salt=b"\0" * 16)
    conn = _connect(db)
    try:
        conn.execute("BEGIN IMMEDIATE")
        rows = conn.execute("SELECT id FROM members WHERE email LIKE ? ORDER BY id", (f"%@{SEED_DOMAIN}",)).fetchall()
        have = len(rows)
        now = time.time()
        if have > n:
            drop = [r["id"] for r in rows[n:]]
            conn.executemany("DELETE FROM posts WHERE member_id = ?", [(i,) for i in drop])
            conn.executemany("DELETE FROM members WHERE id = ?", [(i,) for i in drop])
        for i in range(have, n):
            cursor = conn.execute(
                "INSERT INTO members (email, name, password_hash, verified_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (f"member{i}@{SEED_DOMAIN}", f"Member {i:05d}", placeholder, now, now),
            )
            conn.execute(
                "INSERT INTO posts (member_id, body, created_at) VALUES (?, ?, ?)",
                (cursor.lastrowid, f"Hello from member {i}: selling handmade things.", now),
            )
        conn.execute("COMMIT")
        return n
    finally:
        conn.close()


def perf_toml() -> str:
    """The lab's ``[perf]`` table: two public API reads and the members' feed behind the login flow.

    Short by default (``launchready load`` on the lab takes seconds); never part of an audit
    (``in_audit`` stays false), so the clean-lab audit stays fast.
    """
    return (
        "\n[perf]\n"
        "rate = 20.0\n"
        "duration_s = 10.0\n"
        "warmup_s = 2.0\n"
        "endpoints = [\n"
        '  { name = "feed-api", path = "https://api.marketlab.test/v1/feed" },\n'
        '  { name = "search", path = "https://api.marketlab.test/v1/members/search?q=Mem" },\n'
        f'  {{ name = "member-feed", path = "{MEMBER_FEED_PATH}", login_flow = "login" }},\n'
        "]\n"
    )


def _session_dropper() -> Any:
    """Middleware: a session cookie works for SESSION_DROP_AFTER feed views, then goes to /login."""
    views: dict[str, int] = {}

    @web.middleware
    async def drop(request: web.Request, handler: Handler) -> web.StreamResponse:
        cookie = request.cookies.get("session")
        if request.method == "GET" and request.path == MEMBER_FEED_PATH and cookie:
            views[cookie] = views.get(cookie, 0) + 1
            if views[cookie] > SESSION_DROP_AFTER:
                raise web.HTTPSeeOther("/login", headers={"Cache-Control": "private, no-store"})
        return await handler(request)

    return drop


class PerfLab:
    def __init__(self, faults: frozenset[str], db: Path) -> None:
        self._faults = faults
        self._db = _connect(db)
        self._hero = _hero_bmp(*_HERO_SIZE)

    def close(self) -> None:
        self._db.close()

    async def feed(self, request: web.Request) -> web.StreamResponse:
        db = self._db
        if "feed-n-plus-one" in self._faults:
            members = db.execute("SELECT id, name FROM members WHERE verified_at IS NOT NULL ORDER BY id").fetchall()
            items = []
            for m in members:
                post = db.execute(
                    "SELECT body, created_at FROM posts WHERE member_id = ? ORDER BY id DESC LIMIT 1", (m["id"],)
                ).fetchone()
                if post is not None:
                    items.append({"author": m["name"], "body": post["body"], "at": int(post["created_at"])})
            queries = 1 + len(members)
        else:
            rows = db.execute(
                "SELECT members.name AS author, posts.body, posts.created_at FROM posts "
                "JOIN members ON members.id = posts.member_id ORDER BY posts.id DESC LIMIT 20"
            ).fetchall()
            items = [{"author": r["author"], "body": r["body"], "at": int(r["created_at"])} for r in rows]
            queries = 1
        await asyncio.sleep(queries * QUERY_RTT_S)
        return web.json_response({"posts": items}, headers={"Cache-Control": "no-store"})

    async def search(self, request: web.Request) -> web.StreamResponse:
        query = request.query.get("q", "").strip()
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._db.execute(
            "SELECT id, name FROM members WHERE verified_at IS NOT NULL AND name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 20",
            (escaped + "%",),
        ).fetchall()
        if "search-no-index" in self._faults:
            scanned = self._db.execute("SELECT COUNT(*) FROM members").fetchone()[0]
            cost = QUERY_RTT_S + scanned * SCAN_ROW_S
        else:
            cost = 2 * QUERY_RTT_S  # an index seek: a couple of page reads whatever the size
        await asyncio.sleep(cost)
        return web.json_response(
            {"members": [{"id": r["id"], "name": r["name"]} for r in rows]}, headers={"Cache-Control": "no-store"}
        )

    async def hero(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=self._hero, content_type="image/bmp", headers={"Cache-Control": "public, max-age=3600"}
        )

    @staticmethod
    @web.middleware
    async def _ignore_validators(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            headers = request.headers.copy()
            for name in ("If-None-Match", "If-Modified-Since"):
                headers.popall(name, None)
            request = request.clone(headers=headers)
        return await handler(request)

    def install(self, *, api: web.Application, app: web.Application, static_sites: list[web.Application]) -> None:
        """Add the routes and fault behaviour to the lab's (not yet started) site apps."""
        api.router.add_get("/v1/feed", self.feed)
        api.router.add_get("/v1/members/search", self.search)
        app.router.add_get(HERO_PATH, self.hero)
        if "heavy-page" in self._faults:
            app.middlewares.append(_heavy_home)
        if "session-drops-under-load" in self._faults:
            app.middlewares.append(_session_dropper())
        if "etag-ignored" in self._faults:
            for site in static_sites:
                site.middlewares.append(self._ignore_validators)
