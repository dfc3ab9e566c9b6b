"""Run a deploy or rollback command with its output streamed (masked) as it comes."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from launchready.smoke.secrets import Masker

EXIT_NOT_FOUND = 127


def run_streamed(
    argv: Sequence[str], out: TextIO, masker: Masker, *, prefix: str = "  | ", cwd: Path | None = None
) -> int:
    """Run ``argv`` (no shell), copying each output line to ``out``; returns the exit code."""
    try:
        process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            bufsize=1,
            cwd=cwd,
        )
    except FileNotFoundError:
        print(f"{prefix}{argv[0]}: command not found", file=out, flush=True)
        return EXIT_NOT_FOUND
    except PermissionError:
        print(f"{prefix}{argv[0]}: permission denied", file=out, flush=True)
        return 126
    assert process.stdout is not None
    try:
        for line in process.stdout:
            print(prefix + masker.text(line.rstrip("\n")), file=out, flush=True)
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        raise
    return process.wait()


def resolvable(argv: Sequence[str], cwd: Path | None = None) -> bool:
    program = argv[0]
    if os.sep in program:
        path = Path(program) if Path(program).is_absolute() or cwd is None else cwd / program
        return path.is_file() and os.access(path, os.X_OK)
    return shutil.which(program) is not None


def _git(args: Sequence[str], cwd: Path | None) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and text else None


def current_version(cwd: Path | None) -> str:
    return _git(["describe", "--always", "--dirty", "--tags"], cwd) or "unknown"


def deployer(environ: Mapping[str, str], cwd: Path | None) -> str:
    if environ.get("LAUNCHREADY_DEPLOYER"):
        return environ["LAUNCHREADY_DEPLOYER"]
    found = _git(["config", "user.email"], cwd)
    if found:
        return found
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
