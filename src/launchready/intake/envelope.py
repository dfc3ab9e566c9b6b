"""The Sentry envelope format (develop.sentry.dev/sdk/envelopes): parse, never trust.

An envelope is a JSON header line, then items: a JSON item header line and a payload of
``length`` bytes (or, without ``length``, up to the next newline). Every length, count and
JSON value is checked; a malformed envelope is a 400 naming what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from launchready.intake.errors import Rejected


@dataclass(frozen=True)
class Item:
    type: str
    headers: dict[str, Any]
    payload: bytes


@dataclass(frozen=True)
class Envelope:
    headers: dict[str, Any]
    items: tuple[Item, ...]


def parse_json(data: bytes, what: str) -> Any:
    """JSON from bytes (UTF-8 only), or 400: invalid UTF-8, bad syntax and absurd nesting alike."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(400, f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise Rejected(400, f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise Rejected(400, f"{what} is not valid JSON: {exc}") from None


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    value = parse_json(data, what)
    if not isinstance(value, dict):
        raise Rejected(400, f"{what} is not a JSON object")
    return value


def parse_envelope(body: bytes, max_items: int) -> Envelope:
    newline = body.find(b"\n")
    header_bytes = body if newline < 0 else body[:newline]
    headers = parse_json_object(header_bytes, "envelope header")
    position = len(body) if newline < 0 else newline + 1
    items: list[Item] = []
    while position < len(body):
        if body[position : position + 1] == b"\n":  # blank lines between items are tolerated
            position += 1
            continue
        if len(items) >= max_items:
            raise Rejected(413, f"envelope has more than {max_items} items")
        end = body.find(b"\n", position)
        if end < 0:
            raise Rejected(400, f"item {len(items) + 1}: header without a payload")
        item_headers = parse_json_object(body[position:end], f"item {len(items) + 1} header")
        item_type = item_headers.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise Rejected(400, f"item {len(items) + 1}: header has no type")
        position = end + 1
        length = item_headers.get("length")
        if length is None:
            end = body.find(b"\n", position)
            end = len(body) if end < 0 else end
            payload = body[position:end]
            position = end + 1
        else:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise Rejected(400, f"item {len(items) + 1}: length is not a non-negative integer")
            if position + length > len(body):
                raise Rejected(400, f"item {len(items) + 1}: length {length} runs past the end of the body")
            payload = body[position : position + length]
            position += length
            following = body[position : position + 1]
            if following not in (b"", b"\n"):
                raise Rejected(400, f"item {len(items) + 1}: payload is longer than its length {length}")
            position += 1
        items.append(Item(item_type, item_headers, payload))
    return Envelope(headers, tuple(items))
