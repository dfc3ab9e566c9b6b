"""PDF: a ``Document`` printed by headless Chromium from the same self-contained HTML page.

Chromium is found as the page-load measurement finds it (``perf/chromium.py``: ``LAUNCHREADY_CHROMIUM``,
else ``chromium`` and its usual names on PATH) and runs once with ``--print-to-pdf`` in a profile
of its own, in a process group of its own so a timeout stops its helpers too. The page loads
nothing from the network, so printing needs none. Without Chromium the error says how to install
it; the HTML and Markdown formats never need it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from launchready.report.errors import ReportError
from launchready.report.html import write_html
from launchready.report.model import Document

PRINT_TIMEOUT_S = 120.0
NEEDS_CHROMIUM = (
    "PDF output needs Chromium, which is not installed: install it with `sudo apt-get install chromium` "
    "(or set LAUNCHREADY_CHROMIUM to its path), or write HTML (-o FILE.html) and print that"
)


def write_pdf(doc: Document, output: Path, *, binary: str | None = None, timeout: float = PRINT_TIMEOUT_S) -> None:
    """Print ``doc`` to ``output`` as PDF; ReportError (one line) when Chromium is missing or fails."""
    if binary is None:
        from launchready.perf.chromium import find_chromium

        binary = find_chromium()
    if binary is None:
        raise ReportError(NEEDS_CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="launchready-pdf-") as work:
        folder = Path(work)
        page = folder / "page.html"
        page.write_text(write_html(doc), encoding="utf-8")
        printed = folder / "page.pdf"
        _print(binary, page, printed, folder / "profile", timeout)
        try:
            shutil.copyfile(printed, output)
        except OSError as exc:
            raise ReportError(f"--output {output}: cannot write: {exc.strerror or exc}") from None


def _print(binary: str, page: Path, printed: Path, profile: Path, timeout: float) -> None:
    argv = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={printed}",
        page.as_uri(),
    ]
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ReportError(f"Chromium {binary} could not start: {exc.strerror or exc}") from None
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ReportError(f"Chromium did not print the PDF within {timeout:g} s") from None
    finally:
        # Chromium's helper processes share its group: none may outlive the print.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if not printed.is_file() or not printed.read_bytes()[:5] == b"%PDF-":
        lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        last = lines[-1].strip()[:200] if lines else "no message"
        raise ReportError(f"Chromium did not print the PDF (exit code {proc.returncode}): {last}")
