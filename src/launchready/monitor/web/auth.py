"""Dashboard users, browser sessions, CSRF tokens, failed-login limits and API tokens.

Nothing secret is stored in the clear: passwords as argon2 hashes, session cookie values and API
tokens as SHA-256 hex digests (both are long random values, so a fast hash is enough: there is
nothing to brute-force). Every function takes a SQLAlchemy connection or engine and a clock
reading, so the web handlers, the CLI and the tests share one implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from launchready.monitor.store.schema import api_tokens, login_failures, users, web_sessions
from launchready.monitor.web.errors import WebSetupError

TOKEN_PREFIX = "lrm_"
_NAME_MAX = 100

_hasher = PasswordHasher()

# A real hash to verify against when the user does not exist, so a wrong user name costs the
# same time as a wrong password and response times do not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > _NAME_MAX or any(ch.isspace() for ch in name):
        raise WebSetupError(f"{what} name {name!r}: use 1 to {_NAME_MAX} characters without spaces")
    return name


def add_user(engine: Engine, name: str, password: str, now: float) -> bool:
    """Create or replace the user's password; True when the user is new."""
    name = _check_name(name, "user")
    if len(password) < 8:
        raise WebSetupError(f"user {name}: the password needs at least 8 characters")
    password_hash = _hasher.hash(password)
    with engine.begin() as conn:
        exists = conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None
        if exists:
            conn.execute(update(users).where(users.c.name == name).values(password_hash=password_hash))
            # A changed password ends every session opened with the old one.
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        else:
            conn.execute(insert(users).values(name=name, password_hash=password_hash, created_at=now))
    return not exists


def verify_password(conn: Connection, name: str, password: str) -> bool:
    stored = conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar_one_or_none()
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def add_api_token(engine: Engine, name: str, now: float) -> str:
    """Create a token named ``name`` and return it; only its SHA-256 is kept."""
    name = _check_name(name, "token")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first() is not None:
            raise WebSetupError(f"token {name}: a token with this name exists already; pick another name")
        conn.execute(insert(api_tokens).values(name=name, token_hash=sha256_hex(token), created_at=now))
    return token


def token_name(conn: Connection, token: str, now: float) -> str | None:
    """The name of the API token ``token``, or None when it is unknown."""
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.last_used_at).where(
            api_tokens.c.token_hash == sha256_hex(token)
        )
    ).first()
    if row is None:
        return None
    # Written at most once a minute so a busy scraper does not turn every read into a write.
    if row.last_used_at is None or now - row.last_used_at > 60:
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
    return str(row.name)


@dataclass(frozen=True)
class Session:
    user_name: str
    csrf_token: str


def open_session(conn: Connection, user_name: str, now: float, ttl_s: float) -> str:
    """Store a new session and return the cookie value (only its hash is stored)."""
    cookie_value = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            id_hash=sha256_hex(cookie_value),
            user_name=user_name,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + ttl_s,
        )
    )
    # Expired sessions are cleared here, the only place sessions are created.
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
    return cookie_value


def find_session(conn: Connection, cookie_value: str, now: float) -> Session | None:
    row = conn.execute(
        select(web_sessions.c.user_name, web_sessions.c.csrf_token).where(
            web_sessions.c.id_hash == sha256_hex(cookie_value), web_sessions.c.expires_at > now
        )
    ).first()
    return None if row is None else Session(user_name=row.user_name, csrf_token=row.csrf_token)


def close_session(conn: Connection, cookie_value: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == sha256_hex(cookie_value)))


def tokens_match(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def login_failure_keys(client_addr: str, user_name: str) -> tuple[str, str]:
    # Both the address (one client guessing many names) and the name (many clients guessing one
    # password) are limited.
    return f"addr:{client_addr}", f"user:{user_name[:_NAME_MAX]}"


def login_blocked_for(conn: Connection, keys: tuple[str, ...], now: float, window_s: float, limit: int) -> float:
    """Seconds until a login may be tried again for any of ``keys`` (0 when it may be tried now)."""
    since = now - window_s
    wait = 0.0
    for key in keys:
        count, oldest = conn.execute(
            select(func.count(), func.min(login_failures.c.at)).where(
                login_failures.c.key == key, login_failures.c.at > since
            )
        ).one()
        if count >= limit and oldest is not None:
            wait = max(wait, oldest + window_s - now)
    return wait


def record_login_failure(conn: Connection, keys: tuple[str, ...], now: float, window_s: float) -> None:
    conn.execute(insert(login_failures), [{"key": key, "at": now} for key in keys])
    conn.execute(delete(login_failures).where(login_failures.c.at < now - window_s))


def clear_login_failures(conn: Connection, user_key: str) -> None:
    """A successful login forgives the name's failures (not the address's)."""
    conn.execute(delete(login_failures).where(login_failures.c.key == user_key))
