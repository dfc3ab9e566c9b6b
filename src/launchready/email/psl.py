"""The organizational domain (RFC 7489 3.2) from the Public Suffix List bundled with publicsuffixlist.

publicsuffixlist ships a PSL snapshot inside the package and reads it offline; it is only
updated when the package is (no network at run time). The list object is built once per
process on first use (parsing takes ~50 ms), never at import time.
"""

from __future__ import annotations

from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # only_icann=False: private suffixes (github.io, herokuapp.com) are registries too.
    return PublicSuffixList()


def organizational_domain(name: str) -> str:
    """``mail.shop.example.co.uk`` -> ``example.co.uk``; a bare suffix or unknown TLD returns itself+1."""
    name = name.lower().rstrip(".")
    org = _psl().privatesuffix(name)
    if org:
        return str(org)
    labels = name.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else name
