"""The official @sentry/node SDK (from the npm registry) against the intake on loopback.

Needs Debian's ``nodejs`` and ``@sentry/node`` installed beforehand (the test itself talks only
to loopback): ``npm install --prefix ~/.cache/launchready-node @sentry/node@11.12.0`` (.ci/run does this where Node.js is installed), or point
``LAUNCHREADY_NODE_MODULES`` at another ``node_modules``. Skipped, with the reason printed, when
either is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from launchready.intake.projects import add_project
from launchready.intake.routes import intake_routes
from launchready.monitor.store.errors_schema import error_events, error_groups
from tests.intakeutil import serve, store_engine

NODE_MODULES = Path(os.environ.get("LAUNCHREADY_NODE_MODULES", Path.home() / ".cache/launchready-node/node_modules"))

SCRIPT = r"""
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.env.DSN, release: "web@3.1.0", environment: "production", defaultIntegrations: false });
function chargeCard(orderId) { throw new TypeError(`order ${orderId} has no card`); }
for (const id of [11, 12]) {
  try { chargeCard(id); } catch (err) { Sentry.captureException(err); }
}
Sentry.captureMessage("checkout queue is full, password=hunter2");
Sentry.flush(10000).then((ok) => { process.exit(ok ? 0 : 3); });
"""


def _skip(reason: str) -> None:
    print(reason)
    pytest.skip(reason)


def test_sentry_node_sdk_events_arrive_grouped(tmp_path: Path) -> None:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        _skip("nodejs is not installed: skipping the @sentry/node test")
    if not (NODE_MODULES / "@sentry" / "node").is_dir():
        _skip(
            f"@sentry/node not found under {NODE_MODULES}: npm install --prefix ~/.cache/launchready-node @sentry/node"
        )
    assert node is not None
    with store_engine("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            project = add_project(conn, "web", time.time())
        with serve(intake_routes(engine)) as base:
            script = tmp_path / "report.js"
            script.write_text(SCRIPT)
            env = {"PATH": os.environ.get("PATH", ""), "NODE_PATH": str(NODE_MODULES), "DSN": project.dsn(base)}
            done = subprocess.run([node, str(script)], env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        with engine.connect() as conn:
            groups = {g.title: g for g in conn.execute(select(error_groups))}
            payloads = " ".join(str(e.payload) for e in conn.execute(select(error_events)))
    typed = groups["TypeError: order 11 has no card"]
    assert typed._mapping["count"] == 2 and typed.grouping_basis == "stack" and typed.first_release == "web@3.1.0"
    assert "chargeCard" in (typed.stack_top or "")
    # captureMessage sends a synthetic exception to carry its stack: the title is the message.
    assert "checkout queue is full, password=[Filtered]" in groups
    assert "hunter2" not in payloads
