"""Run regexes over long adversarial strings in a child process, with a deadline per run.

Python's ``re`` cannot be interrupted from inside the process (the matcher neither releases the
GIL nor checks signals), so the runs happen in a child that reports each one done; a run that
has not finished by its deadline is a catastrophic pattern, and the child is killed. The
deadline guards against hangs only: linear patterns finish these inputs in milliseconds, the
quadratic ones this suite was written against take minutes.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from re import Pattern
from typing import Any

# The stdlib's own pattern parser (no public API reads a pattern's structure).
_parser: Any = importlib.import_module("re._parser")


SIZE = 100_000
DEADLINE_SECONDS = 30.0  # per run; a quadratic pattern on SIZE characters runs far longer

# Runs of these, alone and after a pattern's own literals, are what drives backtracking.
BASE_FRAGMENTS = ("a", "A", "0", "f", " ", "\t", "\n", "=", ":", "-", "_", ".", "/", "+", "@", "~", '"', "'", "\\n")

_CHILD = r"""
import json, re, sys
jobs = json.load(sys.stdin)
for job in jobs:
    pattern = re.compile(job["pattern"], job["flags"])
    text = job["text"]
    count = sum(1 for _ in pattern.finditer(text))
    print(json.dumps([job["id"], count]), flush=True)
"""


@dataclass(frozen=True)
class Hang:
    name: str
    input_head: str
    deadline: float

    def __str__(self) -> str:
        return f"{self.name} did not finish within {self.deadline:g}s on {self.input_head!r}..."


def literals(pattern: str) -> list[str]:
    """The literal runs a pattern contains (``sk_live_``, ``://``...), read with the stdlib parser."""
    out: list[str] = []
    current: list[str] = []

    def walk(items: Any) -> None:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                current.append(chr(arg))
                continue
            if current:
                out.append("".join(current))
                current.clear()
            if name in ("SUBPATTERN",):
                walk(arg[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(arg[2])
            elif name == "BRANCH":
                for branch in arg[1]:
                    walk(branch)
                    if current:
                        out.append("".join(current))
                        current.clear()
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(arg[1])
            elif name == "ATOMIC_GROUP":
                walk(arg)

    walk(_parser.parse(pattern))
    if current:
        out.append("".join(current))
    return [lit for lit in dict.fromkeys(out) if lit.strip() or lit]


def adversarial_inputs(pattern: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Long strings built to make a backtracking pattern retry: runs of its literals and of common characters."""
    seeds = [*literals(pattern), *extra]
    texts: list[str] = []
    for fragment in (*BASE_FRAGMENTS, *seeds):
        texts.append(fragment * (SIZE // len(fragment) + 1))
    for seed in seeds:
        for filler in ("a", "0", " ", "=", "-"):
            texts.append(seed + filler * SIZE)
        texts.append((seed + "a1=") * (SIZE // (len(seed) + 3) + 1))
    # A pattern's literals glued together, each followed by what usually comes next.
    glued = "".join(f"{seed}=a:b@c/" for seed in seeds)
    if glued:
        texts.append(glued * (SIZE // len(glued) + 1))
    return list(dict.fromkeys(texts))


def hangs(
    named: dict[str, Pattern[str]], extra: tuple[str, ...] = (), deadline: float = DEADLINE_SECONDS
) -> list[Hang]:
    """The first run of each pattern that did not finish by the deadline; the runs go through one child at a time."""
    jobs: list[dict[str, Any]] = []
    for name, compiled in named.items():
        for text in adversarial_inputs(compiled.pattern, extra):
            jobs.append(
                {"id": len(jobs), "name": name, "pattern": compiled.pattern, "flags": compiled.flags, "text": text}
            )
    found: list[Hang] = []
    while jobs:
        done = _run(jobs, deadline)
        if done == len(jobs):
            break
        stuck = jobs[done]
        found.append(Hang(stuck["name"], stuck["text"][:40], deadline))
        # One hang per pattern is enough to name it; its other inputs would each wait a deadline.
        jobs = [job for job in jobs[done + 1 :] if job["name"] != stuck["name"]]
    return found


def _run(jobs: list[dict[str, Any]], limit: float) -> int:
    """How many jobs the child finished before one overran its deadline (len(jobs): all)."""
    payload = json.dumps([{**job, "flags": int(job["flags"])} for job in jobs])
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(payload)
    child.stdin.close()
    finished = 0
    deadline = time.monotonic() + limit
    try:
        while finished < len(jobs):
            ready, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return finished
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"the regex child exited early (code {child.wait()})")
            finished += 1
            deadline = time.monotonic() + limit
        return finished
    finally:
        child.kill()
        child.wait()
