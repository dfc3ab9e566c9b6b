"""Bounded decompression: every encoding round-trips at any size under the cap, and stops past it."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import brotli
import pytest

from launchready.intake.body import decode_body
from launchready.intake.errors import Rejected

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "identity": lambda data: data,
}
PAYLOADS = [b"", b"x", b"a" * 100 + b"\x00" * (3 * 1024 * 1024), bytes(range(256)) * 5000]


@pytest.mark.parametrize("encoding", list(ENCODERS))
@pytest.mark.parametrize("payload", PAYLOADS, ids=["empty", "one", "zeros-3mb", "mixed-1mb"])
def test_round_trip(encoding: str, payload: bytes) -> None:
    assert decode_body(ENCODERS[encoding](payload), encoding, 4 * 1024 * 1024) == payload


def test_raw_deflate_is_accepted_too() -> None:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = compressor.compress(b"hello envelope") + compressor.flush()
    assert decode_body(raw, "deflate", 1024) == b"hello envelope"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_truncated_streams_are_400_and_bombs_413(encoding: str) -> None:
    big = ENCODERS[encoding](b"\x00" * (8 * 1024 * 1024))
    with pytest.raises(Rejected) as truncated:
        decode_body(big[: len(big) // 2], encoding, 64 * 1024 * 1024)
    assert truncated.value.status == 400
    with pytest.raises(Rejected) as bomb:
        decode_body(big, encoding, 1024 * 1024)
    assert bomb.value.status == 413
