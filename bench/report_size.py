"""How long the audit's reports are for the lab with the demo's faults: terminal lines (100
columns) and the HTML page's height at 1280 and 390 px in Chromium, for this tree and, with
--base REF, for a git revision of it (extracted to a temporary folder), printed as ratios.

Run by hand:  .venv/bin/python bench/report_size.py [--base main]

Both trees audit the same lab (started once, from this tree) with the same config; only the
reports differ. Not a speed benchmark: it measures what a reader has to scroll through.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import aiohttp

from launchready.lab.faults import DEMO_FAULTS
from launchready.lab.lab import Lab
from launchready.perf import chromium

ROOT = Path(__file__).resolve().parent.parent


def extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def reports(src: Path, lab: Lab, config: Path, out: Path) -> tuple[int, Path]:
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "100"}
    base = [sys.executable, "-m", "launchready", "audit", "-c", str(config), "--no-history", "-q", *lab.cli_args()]
    terminal = subprocess.run(base, env=env, capture_output=True, text=True, check=False).stdout
    html = out / "report.html"
    subprocess.run([*base, "-f", "html", "-o", str(html)], env=env, capture_output=True, check=False)
    return len(terminal.splitlines()), html


async def page_height(path: Path, width: int) -> int:
    """document.documentElement.scrollHeight after loading ``path`` at ``width`` CSS px."""
    binary = chromium.find_chromium()
    if binary is None:
        raise SystemExit(chromium.INSTALL_HINT)
    profile = tempfile.mkdtemp(prefix="launchready-bench-")
    proc, ws_url = await chromium._launch(binary, profile, [])
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, max_msg_size=0) as ws:
            cdp = chromium._Cdp(ws)
            target = await cdp.send("Target.createTarget", {"url": "about:blank"})
            attached = await cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            session = attached["sessionId"]
            metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}
            await cdp.send("Emulation.setDeviceMetricsOverride", metrics, session)
            await cdp.send("Page.enable", {}, session)
            await cdp.send("Page.navigate", {"url": path.as_uri()}, session)
            await asyncio.sleep(1.5)
            expression = {"expression": "document.documentElement.scrollHeight", "returnByValue": True}
            result = await cdp.send("Runtime.evaluate", expression, session)
            await cdp.close()
            return int(result["result"]["value"])
    finally:
        proc.kill()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a git revision to compare with (e.g. main)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Lab(faults=list(DEMO_FAULTS)) as lab:
        work = Path(tmp)
        config = work / "launchready.toml"
        config.write_text(lab.config_toml(), encoding="utf-8")
        trees = {"this tree": ROOT / "src"}
        if args.base:
            trees[args.base] = extract(args.base, work / "base")
        sizes: dict[str, tuple[int, int, int]] = {}
        for name, src in trees.items():
            out = work / name.replace(" ", "-")
            out.mkdir()
            lines, html = reports(src, lab, config, out)
            sizes[name] = (lines, asyncio.run(page_height(html, 1280)), asyncio.run(page_height(html, 390)))
            print(f"{name:>12}: terminal {lines} lines, HTML {sizes[name][1]} px at 1280, {sizes[name][2]} px at 390")
        if args.base:
            now, before = sizes["this tree"], sizes[args.base]
            ratios = ", ".join(f"{a / b:.2f}" for a, b in zip(now, before, strict=True))
            print(f"ratios this tree / {args.base} (terminal, HTML 1280, HTML 390): {ratios}")


if __name__ == "__main__":
    main()
