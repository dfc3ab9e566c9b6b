"""Reading a request body within a size cap and undoing its Content-Encoding within another.

A decompression bomb (a few KB that inflate to gigabytes) is stopped as soon as the output
passes the cap: every decompressor here is driven with an output limit, never asked to inflate
the whole input at once.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import brotli  # type: ignore[import-untyped]

from launchready.intake.errors import Rejected

_CHUNK = 64 * 1024


async def read_capped(chunks: AsyncIterator[bytes], declared_length: str | None, limit: int) -> bytes:
    """The whole body, or 413 as soon as it (or its declared Content-Length) passes ``limit``."""
    if declared_length is not None:
        try:
            declared = int(declared_length)
        except ValueError:
            raise Rejected(400, "Content-Length is not a number") from None
        if declared > limit:
            raise Rejected(413, f"body of {declared} bytes is above the {limit}-byte limit")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body is above the {limit}-byte limit")
        parts.append(chunk)
    return b"".join(parts)


def _inflate_zlib(data: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    while True:
        out += decompressor.decompress(pending, limit + 1 - len(out))
        if len(out) > limit:
            raise Rejected(413, f"body is above the {limit}-byte limit once decompressed")
        pending = decompressor.unconsumed_tail
        if not pending:
            break
    out += decompressor.flush()
    if len(out) > limit:
        raise Rejected(413, f"body is above the {limit}-byte limit once decompressed")
    if not decompressor.eof:
        raise Rejected(400, "compressed body is truncated")
    return bytes(out)


def _inflate_brotli(data: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    out = bytearray()
    position = 0
    while not decompressor.is_finished():
        piece = data[position : position + _CHUNK]
        position += len(piece)
        produced = decompressor.process(piece, output_buffer_limit=_CHUNK)
        # Drain what this input inflates to, a bounded buffer at a time, before feeding more.
        while produced:
            out += produced
            if len(out) > limit:
                raise Rejected(413, f"body is above the {limit}-byte limit once decompressed")
            if decompressor.is_finished():
                break
            produced = decompressor.process(b"", output_buffer_limit=_CHUNK)
        if not piece and not decompressor.is_finished():
            raise Rejected(400, "compressed body is truncated")
    return bytes(out)


def decode_body(data: bytes, content_encoding: str | None, limit: int) -> bytes:
    """``data`` with its Content-Encoding (gzip, deflate, br, identity) undone, at most ``limit`` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    try:
        if encoding in ("", "identity"):
            decoded = data
        elif encoding in ("gzip", "x-gzip"):
            decoded = _inflate_zlib(data, 16 + zlib.MAX_WBITS, limit)
        elif encoding == "deflate":
            # RFC 9110 says zlib-wrapped; some clients send raw deflate: accept both.
            try:
                decoded = _inflate_zlib(data, zlib.MAX_WBITS, limit)
            except zlib.error:
                decoded = _inflate_zlib(data, -zlib.MAX_WBITS, limit)
        elif encoding == "br":
            decoded = _inflate_brotli(data, limit)
        else:
            raise Rejected(415, f"unsupported Content-Encoding {encoding[:40]!r}")
    except (zlib.error, brotli.error) as exc:
        raise Rejected(400, f"{encoding} body does not decompress: {exc}") from None
    if len(decoded) > limit:
        raise Rejected(413, f"body is above the {limit}-byte limit")
    return decoded
