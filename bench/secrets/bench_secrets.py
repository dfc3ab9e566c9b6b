"""Benchmark: the secret scanner on a generated repository of 10k+ commits with planted secrets.

Run by hand (detect-secrets is installed for this comparison only, in a venv of its own: it is not
a dependency and stays out of the project's locks):

    python3 -m venv /tmp/ds-venv && /tmp/ds-venv/bin/pip install detect-secrets
    PATH=/tmp/ds-venv/bin:$PATH .venv/bin/python bench/secrets/bench_secrets.py [--commits 12000] [--repeat 5] \
        [--repo /some/large/repo ...]

Baselines, measured in the same run on the same repository:
- history scan vs ``git log -p --all > /dev/null`` (the floor: git reading and diffing the
  history, with nothing done to it). Target: within 1.5x.
- working-tree scan vs ``detect-secrets scan --all-files`` on the same tree. Target: at least
  10x faster with at least its recall on the planted secrets still in the tree.
``--repo PATH`` adds the history ratio for any other repository on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launchready.config.sections.secrets import SecretsConfig
from launchready.secrets.detector import Detector
from launchready.secrets.history import scan_history
from launchready.secrets.tree import scan_tree

RNG = random.Random(7)
ALNUM = string.ascii_letters + string.digits


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def make_secret() -> tuple[str, str]:
    """(kind, a line of code holding a fresh secret of that kind)."""
    kind = RNG.choice(["aws", "github", "stripe", "slack", "sendgrid", "npm", "password", "private-key"])
    if kind == "aws":
        return kind, f'AWS_ACCESS_KEY_ID = "{"AK" + "IA" + rnd(16, string.ascii_uppercase + "234567")}"  # s3 uploads'
    if kind == "github":
        return kind, f'GITHUB_TOKEN = "{"gh" + "p_" + rnd(36)}"'
    if kind == "stripe":
        return kind, f'stripe.api_key = "{"sk_" + "live_" + rnd(32)}"'
    if kind == "slack":
        return (
            kind,
            f'SLACK_BOT = "{"xo" + "xb-" + rnd(11, string.digits) + "-" + rnd(12, string.digits) + "-" + rnd(24)}"',
        )
    if kind == "sendgrid":
        return kind, f'SENDGRID_KEY = "{"S" + "G." + rnd(22) + "." + rnd(43)}"'
    if kind == "npm":
        return kind, f'NPM_TOKEN = "{"np" + "m_" + rnd(36)}"'
    if kind == "password":
        return kind, f'DB_PASSWORD = "{rnd(24)}"'
    return kind, "-----BEGIN RSA PRIVATE KEY-----\\n" + rnd(64, ALNUM + "+/")  # one line of a key, as in a JSON config


def code_block(n: int) -> list[str]:
    name = rnd(8, string.ascii_lowercase)
    lines = [f"def {name}_{n}(request, session):", f'    """Handle {name} for the marketplace."""']
    for i in range(RNG.randint(4, 14)):
        var = rnd(6, string.ascii_lowercase)
        lines.append(
            RNG.choice(
                [
                    f"    {var} = session.get('{var}', {i})",
                    f"    if {var} is None:\n        return redirect('/{var}')",
                    f"    logger.info('processing %s', {var})",
                    f"    total += price_{var} * quantity",
                    f"    token_{var} = os.environ.get('TOKEN_{var.upper()}')",
                ]
            )
        )
    lines.append(f"    return render('{name}.html', total=total)")
    return lines


def generate(root: Path, commits: int) -> dict[str, list[str]]:
    """Build the repository with git fast-import; returns the final files (path -> lines)."""
    subprocess.run(["git", "init", "-q", "--template=", "-b", "main", str(root)], check=True)
    files: dict[str, list[str]] = {}
    planted: list[tuple[str, str]] = []  # (path, line) currently in the tree
    stream: list[bytes] = []
    for n in range(commits):
        if not files or RNG.random() < 0.08:
            path = f"app/{rnd(6, string.ascii_lowercase)}/{rnd(8, string.ascii_lowercase)}.py"
            files[path] = ["import os", "import logging", "", "logger = logging.getLogger(__name__)", ""]
        else:
            path = RNG.choice(list(files))
        lines = files[path]
        roll = RNG.random()
        if roll < 0.006:
            _, line = make_secret()
            lines.insert(RNG.randint(5, len(lines)), line)
            planted.append((path, line))
        elif roll < 0.009 and planted:
            victim = RNG.choice(planted)
            if victim[1] in files[victim[0]]:
                files[victim[0]].remove(victim[1])
                path, lines = victim[0], files[victim[0]]
            planted.remove(victim)
        else:
            block = code_block(n)
            if len(lines) > 200:
                del lines[5:25]
            lines.extend(["", *block])
        data = ("\n".join(lines) + "\n").encode()
        stamp = 1_700_000_000 + n * 600
        stream.append(
            b"commit refs/heads/main\n"
            + f"committer Dev <dev@example.test> {stamp} +0000\n".encode()
            + f"data {len(f'change {n}')}\nchange {n}\n".encode()
            + f"M 100644 inline {path}\n".encode()
            + f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)
    return files


def timed(fn: object, *args: object) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started, out


def cpu_seconds() -> float:
    """CPU used so far by this process and the git processes it waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def git_log_floor(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["git", "-C", str(root), "log", "-p", "--all"], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def planted_in_tree(root: Path) -> set[tuple[str, int]]:
    """(path, line) of every planted secret still in the working tree (the bench's ground truth)."""
    markers = (
        '"AK' + "IA",
        '"gh' + "p_",
        '"sk_' + "live_",
        '"xo' + "xb-",
        '"S' + "G.",
        '"np' + "m_",
        "DB_PASSWORD",
        "PRIVATE KEY",
    )
    out: set[tuple[str, int]] = set()
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if any(m in line for m in markers):
                out.add((str(path.relative_to(root)), number))
    return out


def detect_secrets_scan(root: Path) -> tuple[float, set[tuple[str, int]]] | None:
    exe = shutil.which("detect-secrets") or str(Path(sys.executable).with_name("detect-secrets"))
    if not Path(exe).exists():
        return None
    started = time.perf_counter()
    done = subprocess.run([exe, "scan", "--all-files"], cwd=root, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    results = json.loads(done.stdout)["results"]
    return elapsed, {(path, r["line_number"]) for path, rs in results.items() for r in rs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=12_000)
    parser.add_argument("--repo", action="append", default=[], help="another repository to time the history scan on")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each side (best kept)")
    args = parser.parse_args()
    detector = Detector()
    work = Path(tempfile.mkdtemp(prefix="launchready-bench-secrets-"))
    try:
        root = work / "repo"
        gen_s, _ = timed(generate, root, args.commits)
        print(f"generated {args.commits} commits in {gen_s:.1f}s at {root}")
        for repo in [root, *map(Path, args.repo)]:
            # Interleaved and repeated, best of each kept: on a shared machine a burst of someone else's
            # load then hits both sides alike instead of one of them.
            floors: list[float] = []
            scans: list[tuple[float, object]] = []
            floor_cpu: list[float] = []
            scan_cpu: list[float] = []
            for _ in range(args.repeat):
                before = cpu_seconds()
                floors.append(git_log_floor(repo))
                floor_cpu.append(cpu_seconds() - before)
                before = cpu_seconds()
                scans.append(timed(scan_history, repo, detector))
                scan_cpu.append(cpu_seconds() - before)
            floor = min(floors)
            scan_s, result = min(scans, key=lambda t: t[0])
            hits = len(result.hits)  # type: ignore[attr-defined]
            print(
                f"history {repo.name}: scan {scan_s:.2f}s vs `git log -p --all` {floor:.2f}s "
                f"-> ratio {scan_s / floor:.2f}x (target <= 1.5x); {hits} secret(s); "
                f"CPU {min(scan_cpu):.2f}s vs {min(floor_cpu):.2f}s (best of {args.repeat})"
            )
        truth = planted_in_tree(root)
        tree_s, tree = timed(lambda: scan_tree(root, detector, max_bytes=SecretsConfig().max_file_mb * 1024 * 1024))
        ours = {(h.path, h.line) for h in tree.hits}  # type: ignore[attr-defined]
        our_recall = len(truth & ours) / len(truth) if truth else 1.0
        print(
            f"tree: {len(truth)} planted secret(s) in the working tree; launchready {tree_s:.2f}s, recall {our_recall:.0%}"
        )
        ds = detect_secrets_scan(root)
        if ds is None:
            print("tree: detect-secrets not installed (pip install detect-secrets) - no comparison")
        else:
            ds_s, ds_found = ds
            ds_recall = len(truth & ds_found) / len(truth) if truth else 1.0
            print(
                f"tree: detect-secrets {ds_s:.2f}s, recall {ds_recall:.0%} -> launchready is {ds_s / tree_s:.1f}x faster "
                f"(target >= 10x), recall {our_recall:.0%} vs {ds_recall:.0%}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
