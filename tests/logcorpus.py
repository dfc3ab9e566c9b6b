"""A labelled log corpus: lines from known templates with realistic variable parts.

LogHub's structured samples cannot be downloaded here, so this generator plays their role for
grouping accuracy (as in the Loghub paper: a line counts as correct when the set of lines its
cluster holds is exactly the set of lines of its true template). The templates imitate the
LogHub systems (HDFS, OpenSSH, Apache, Zookeeper, a web app) and include the hard cases: ids,
IPs with ports, block ids, hex, UUIDs, e-mail addresses, quoted values, durations, and
templates that differ in one constant word.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

Gen = Callable[[random.Random], str]

USERS = ["root", "admin", "ann", "bob", "deploy", "oracle", "test", "git", "www-data"]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0",
    "curl/8.4.0",
    "python-requests/2.31",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Safari/605.1.15",
]
HOSTS = ["web-1", "web-2", "db-primary", "cache-3", "worker-7"]


def _ip(r: random.Random) -> str:
    return ".".join(str(r.randint(1, 254)) for _ in range(4))


def _hex(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def _uuid(r: random.Random) -> str:
    h = _hex(r, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _word(r: random.Random, n: int = 6) -> str:
    return "".join(r.choice(string.ascii_lowercase) for _ in range(n))


TEMPLATES: list[tuple[str, Gen]] = [
    (
        "hdfs-receiving",
        lambda r: (
            f"Receiving block blk_{r.randint(-9 * 10**18, 9 * 10**18)} src: /{_ip(r)}:{r.randint(1024, 65535)} dest: /{_ip(r)}:50010"
        ),
    ),
    (
        "hdfs-received",
        lambda r: (
            f"Received block blk_{r.randint(-9 * 10**18, 9 * 10**18)} of size {r.randint(1, 67108864)} from /{_ip(r)}"
        ),
    ),
    ("hdfs-served", lambda r: f"{_ip(r)}:50010 Served block blk_{r.randint(-9 * 10**18, 9 * 10**18)} to /{_ip(r)}"),
    (
        "hdfs-delete",
        lambda r: (
            f"Deleting block blk_{r.randint(-9 * 10**18, 9 * 10**18)} file /mnt/hadoop/dfs/data/current/subdir{r.randint(0, 63)}/blk_{r.randint(1, 10**18)}"
        ),
    ),
    (
        "ssh-accepted",
        lambda r: f"Accepted password for {r.choice(USERS)} from {_ip(r)} port {r.randint(1024, 65535)} ssh2",
    ),
    ("ssh-failed", lambda r: f"Failed password for {r.choice(USERS)} from {_ip(r)} port {r.randint(1024, 65535)} ssh2"),
    ("ssh-invalid", lambda r: f"Invalid user {_word(r, r.randint(3, 8))} from {_ip(r)}"),
    ("ssh-closed", lambda r: f"Connection closed by {_ip(r)} [preauth]"),
    ("ssh-disconnect", lambda r: f"Received disconnect from {_ip(r)}: 11: Bye Bye [preauth]"),
    (
        "apache-notice",
        lambda r: f"jk2_init() Found child {r.randint(1000, 32000)} in scoreboard slot {r.randint(1, 12)}",
    ),
    ("apache-error", lambda r: f"mod_jk child workerEnv in error state {r.randint(5, 9)}"),
    ("apache-client", lambda r: f"[client {_ip(r)}] Directory index forbidden by rule: /var/www/html/"),
    (
        "zk-session",
        lambda r: (
            f"Established session 0x{_hex(r, 14)} with negotiated timeout {r.choice([20000, 30000, 40000])} for client /{_ip(r)}:{r.randint(1024, 65535)}"
        ),
    ),
    (
        "zk-closed",
        lambda r: (
            f"Closed socket connection for client /{_ip(r)}:{r.randint(1024, 65535)} which had sessionid 0x{_hex(r, 14)}"
        ),
    ),
    ("zk-expire", lambda r: f"Expiring session 0x{_hex(r, 14)}, timeout of {r.choice([20000, 30000])}ms exceeded"),
    ("app-login", lambda r: f"user {r.randint(1, 10**6)} logged in from {_ip(r)} in {r.randint(1, 900)} ms"),
    (
        "app-order",
        lambda r: (
            f"order {_uuid(r)} paid by {_word(r)}@{_word(r, 5)}.com amount {r.randint(1, 999)}.{r.randint(10, 99)} EUR"
        ),
    ),
    ("app-notfound", lambda r: f"GET /api/items/{r.randint(1, 10**5)} returned 404 in {r.randint(1, 50)} ms"),
    (
        "app-timeout",
        lambda r: (
            f"ERROR db timeout after {r.randint(1000, 30000)} ms on shard {r.randint(0, 15)} host {r.choice(HOSTS)}"
        ),
    ),
    (
        "app-keyerror",
        lambda r: (
            f"ERROR KeyError: '{_word(r, r.randint(4, 9))}' while rendering template {r.choice(['cart', 'home', 'checkout'])}.html"
        ),
    ),
    ("app-cache", lambda r: f"cache miss for key session:{_hex(r, 24)} took {r.random():.3f}s"),
    (
        "app-worker",
        lambda r: (
            f"worker {r.choice(HOSTS)} picked job {r.randint(1, 10**7)} from queue {r.choice(['mail', 'billing', 'export'])}"
        ),
    ),
    ("app-retry", lambda r: f"retrying webhook to https://{_word(r)}.example.com/hook attempt {r.randint(1, 5)} of 5"),
    (
        "app-customer",
        lambda r: (
            f"ERROR payment failed for customer '{' '.join(_word(r, 5).title() for _ in range(r.randint(1, 3)))}': card declined"
        ),
    ),
    ("app-agent", lambda r: f'blocked request from "{r.choice(AGENTS)}" to {_ip(r)}'),
    (
        "app-file",
        lambda r: (
            f"could not open '{'/'.join(_word(r, 4) for _ in range(r.randint(1, 4)))} {_word(r, 3)}.pdf' for reading"
        ),
    ),
    ("app-mail", lambda r: f"mail to {_word(r)}.{_word(r, 4)}@{_word(r, 5)}.org bounced: mailbox full"),
    (
        "app-slow",
        lambda r: (
            f"WARNING slow query took {r.randint(300, 9000)} ms: SELECT * FROM orders WHERE id = {r.randint(1, 10**6)}"
        ),
    ),
]


def labelled_corpus(lines: int = 2000, seed: int = 12) -> list[tuple[str, str]]:
    """``lines`` (text, true template name) pairs, templates drawn with uneven frequencies."""
    rng = random.Random(seed)
    weights = [rng.choice([1, 2, 5, 10, 20]) for _ in TEMPLATES]
    out: list[tuple[str, str]] = []
    for _ in range(lines):
        name, gen = rng.choices(TEMPLATES, weights)[0]
        out.append((gen(rng), name))
    return out


def with_headers(corpus: list[tuple[str, str]], seed: int = 3) -> list[tuple[str, str]]:
    """The same lines as a raw log file has them: timestamp, level, pid and component before the content."""
    rng = random.Random(seed)
    out = []
    for index, (text, name) in enumerate(corpus):
        stamp = f"2026-11-30 10:{index // 60 % 60:02d}:{index % 60:02d},{rng.randint(0, 999):03d}"
        out.append((f"{stamp} INFO [{rng.randint(100, 9999)}] {rng.choice(HOSTS)}: {text}", name))
    return out


def grouping_accuracy(predicted: list[str], truth: list[str]) -> float:
    """Loghub's grouping accuracy: the share of lines whose predicted cluster is exactly their true group."""
    by_pred: dict[str, set[int]] = {}
    by_true: dict[str, set[int]] = {}
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred.setdefault(p, set()).add(i)
        by_true.setdefault(t, set()).add(i)
    correct = sum(1 for p, t in zip(predicted, truth, strict=True) if by_pred[p] == by_true[t])
    return correct / len(truth) if truth else 1.0
