"""The marketplace's state: members, sessions, invites, posts, orders, on SQLite (one per lab)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SESSION_LIFETIME_SECONDS = 14 * 24 * 3600
VERIFICATION_LIFETIME_SECONDS = 24 * 3600
RESET_LIFETIME_SECONDS = 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    verified_at REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS email_tokens (
    token TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS reset_tokens (
    token TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    member_id INTEGER REFERENCES members(id),
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS invites (
    token TEXT PRIMARY KEY,
    inviter_id INTEGER NOT NULL REFERENCES members(id),
    email TEXT NOT NULL,
    accepted_by INTEGER REFERENCES members(id),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY,
    received_at REAL NOT NULL
);
"""


class DuplicateEmail(Exception):
    pass


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    name: str
    verified: bool
    created_at: float


@dataclass(frozen=True)
class Session:
    id: str
    member: Member | None  # None: an anonymous visitor's session


@dataclass(frozen=True)
class Invite:
    token: str
    inviter_id: int
    email: str
    accepted_by: int | None


@dataclass(frozen=True)
class Post:
    id: int
    author: str
    body: str
    created_at: float


@dataclass(frozen=True)
class Order:
    id: int
    member_id: int
    amount_cents: int
    currency: str
    status: str  # "pending" until the payment webhook says "paid"
    created_at: float


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    scheme, salt_hex, _ = stored.split("$", 2)
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(hash_password(password, salt=bytes.fromhex(salt_hex)), stored)


def _member(row: sqlite3.Row) -> Member:
    return Member(row["id"], row["email"], row["name"], row["verified_at"] is not None, row["created_at"])


_POSTS_SELECT = (
    "SELECT posts.id, members.name AS author, posts.body, posts.created_at FROM posts "
    "JOIN members ON members.id = posts.member_id"
)


def _post(row: sqlite3.Row) -> Post:
    return Post(row["id"], row["author"], row["body"], row["created_at"])


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Store:
    """All reads and writes go through here; safe to call from any thread."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- members ---------------------------------------------------------------------------

    def create_member(self, email: str, name: str, password: str, *, verified: bool = False) -> Member:
        now = time.time()
        password_hash = hash_password(password)
        with self._tx() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO members (email, name, password_hash, verified_at, created_at) VALUES (?, ?, ?, ?, ?)",
                    (email.strip(), name.strip(), password_hash, now if verified else None, now),
                )
            except sqlite3.IntegrityError:
                raise DuplicateEmail(email) from None
            row = db.execute("SELECT * FROM members WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _member(row)

    def member(self, member_id: int) -> Member | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM members WHERE id = ?", (member_id,)).fetchone()
        return _member(row) if row else None

    def authenticate(self, email: str, password: str) -> Member | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM members WHERE email = ?", (email.strip(),)).fetchone()
        if row is None or not password_matches(password, row["password_hash"]):
            return None
        return _member(row)

    def search_members(self, query: str, *, limit: int = 50) -> list[Member]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM members WHERE verified_at IS NOT NULL AND name LIKE ? ESCAPE '\\' ORDER BY name LIMIT ?",
                (_like_pattern(query.strip()), limit),
            ).fetchall()
        return [_member(row) for row in rows]

    # -- email verification ----------------------------------------------------------------

    def create_verification_token(self, member_id: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "INSERT INTO email_tokens (token, member_id, expires_at) VALUES (?, ?, ?)",
                (token, member_id, time.time() + VERIFICATION_LIFETIME_SECONDS),
            )
        return token

    def verify_email(self, token: str) -> Member | None:
        """Mark the token's member verified; None when the token is unknown, used or expired."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT member_id FROM email_tokens WHERE token = ? AND used_at IS NULL AND expires_at > ?",
                (token, now),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE email_tokens SET used_at = ? WHERE token = ?", (now, token))
            db.execute(
                "UPDATE members SET verified_at = COALESCE(verified_at, ?) WHERE id = ?", (now, row["member_id"])
            )
        return self.member(row["member_id"])

    # -- password reset --------------------------------------------------------------------

    def create_reset_token(self, email: str) -> tuple[Member, str] | None:
        """A one-hour reset token for the member with this address; None when nobody has it."""
        with self._lock:
            row = self._db.execute("SELECT * FROM members WHERE email = ?", (email.strip(),)).fetchone()
        if row is None:
            return None
        token = secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "INSERT INTO reset_tokens (token, member_id, expires_at) VALUES (?, ?, ?)",
                (token, row["id"], time.time() + RESET_LIFETIME_SECONDS),
            )
        return _member(row), token

    def reset_token_valid(self, token: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM reset_tokens WHERE token = ? AND used_at IS NULL AND expires_at > ?",
                (token, time.time()),
            ).fetchone()
        return row is not None

    def reset_password(self, token: str, password: str) -> Member | None:
        """Set the token's member's password (and use the token up); None for an unknown, used or expired token."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT member_id FROM reset_tokens WHERE token = ? AND used_at IS NULL AND expires_at > ?",
                (token, now),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE reset_tokens SET used_at = ? WHERE token = ?", (now, token))
            db.execute("UPDATE members SET password_hash = ? WHERE id = ?", (hash_password(password), row["member_id"]))
        return self.member(row["member_id"])

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, member_id: int | None) -> Session:
        session_id = secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions (id, member_id, expires_at) VALUES (?, ?, ?)",
                (session_id, member_id, time.time() + SESSION_LIFETIME_SECONDS),
            )
        return Session(session_id, self.member(member_id) if member_id is not None else None)

    def session(self, session_id: str) -> Session | None:
        with self._lock:
            row = self._db.execute(
                "SELECT member_id FROM sessions WHERE id = ? AND expires_at > ?", (session_id, time.time())
            ).fetchone()
        if row is None:
            return None
        member = self.member(row["member_id"]) if row["member_id"] is not None else None
        return Session(session_id, member)

    def touch_session(self, session_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET expires_at = ? WHERE id = ?", (time.time() + SESSION_LIFETIME_SECONDS, session_id)
            )

    def delete_session(self, session_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- invites ---------------------------------------------------------------------------

    def create_invite(self, inviter_id: int, email: str) -> Invite:
        token = secrets.token_urlsafe(24)
        with self._tx() as db:
            db.execute(
                "INSERT INTO invites (token, inviter_id, email, created_at) VALUES (?, ?, ?, ?)",
                (token, inviter_id, email.strip(), time.time()),
            )
        return Invite(token, inviter_id, email.strip(), None)

    def invite(self, token: str) -> Invite | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM invites WHERE token = ?", (token,)).fetchone()
        return Invite(row["token"], row["inviter_id"], row["email"], row["accepted_by"]) if row else None

    def accept_invite(self, token: str, name: str, password: str) -> Member | None:
        """Create the invited member (verified: the invite link proved the address)."""
        invite = self.invite(token)
        if invite is None or invite.accepted_by is not None:
            return None
        member = self.create_member(invite.email, name, password, verified=True)
        with self._tx() as db:
            db.execute("UPDATE invites SET accepted_by = ? WHERE token = ?", (member.id, token))
        return member

    # -- feed ------------------------------------------------------------------------------

    def add_post(self, member_id: int, body: str) -> Post:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO posts (member_id, body, created_at) VALUES (?, ?, ?)", (member_id, body, time.time())
            )
            row = db.execute(_POSTS_SELECT + " WHERE posts.id = ?", (cursor.lastrowid,)).fetchone()
        return _post(row)

    def feed(self, *, limit: int = 50) -> list[Post]:
        with self._lock:
            rows = self._db.execute(_POSTS_SELECT + " ORDER BY posts.id DESC LIMIT ?", (limit,)).fetchall()
        return [_post(row) for row in rows]

    # -- orders and payments ---------------------------------------------------------------

    def create_order(self, member_id: int, amount_cents: int, currency: str) -> Order:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO orders (member_id, amount_cents, currency, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
                (member_id, amount_cents, currency, time.time()),
            )
            order_id = cursor.lastrowid
        order = self.order(int(order_id or 0))
        assert order is not None
        return order

    def order(self, order_id: int) -> Order | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            return None
        return Order(
            row["id"], row["member_id"], row["amount_cents"], row["currency"], row["status"], row["created_at"]
        )

    def orders_of(self, member_id: int) -> list[Order]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM orders WHERE member_id = ? ORDER BY id", (member_id,)).fetchall()
        return [order for row in rows if (order := self.order(row["id"])) is not None]

    def record_payment(self, event_id: str, order_id: int) -> bool:
        """Mark the order paid once per provider event id (providers redeliver); False if unknown order."""
        with self._tx() as db:
            seen = db.execute("SELECT 1 FROM webhook_events WHERE id = ?", (event_id,)).fetchone()
            if seen:
                return True
            updated = db.execute("UPDATE orders SET status = 'paid' WHERE id = ?", (order_id,)).rowcount
            if not updated:
                return False
            db.execute("INSERT INTO webhook_events (id, received_at) VALUES (?, ?)", (event_id, time.time()))
        return True
