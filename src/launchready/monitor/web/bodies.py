"""Request bodies read within a cap: a client cannot make the monitor buffer more than it allows."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes (the rest is never read)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body


async def read_json(request: Request, limit: int, too_large: str) -> tuple[Any, JSONResponse | None]:
    """(payload, None), or (None, the 413/400 answer): ``too_large`` is the 413's error text."""
    raw = await read_capped(request, limit)
    if raw is None:
        return None, JSONResponse({"error": too_large}, status_code=413)
    try:
        return json.loads(raw or b"null"), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=400)
