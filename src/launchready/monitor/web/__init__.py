"""The monitor's web side: dashboard, heartbeat pings, JSON API, /metrics and /healthz (Starlette).

``create_app(engine, settings, routing=..., clock=...)`` returns the ASGI app the serve command
runs with uvicorn next to the scheduler and the alert worker.

The names below are imported on first use: a reader of one module (``monitor.web.queries``, as the
handover reads the store) does not pay for Starlette, Jinja2 and the password hasher's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.lazy import lazy_exports

if TYPE_CHECKING:
    from launchready.monitor.store.pings import Routing
    from launchready.monitor.web.app import create_app
    from launchready.monitor.web.settings import WebSettings

__all__ = ["Routing", "WebSettings", "create_app"]

__getattr__ = lazy_exports(
    __name__,
    {
        "Routing": "launchready.monitor.store.pings",
        "create_app": "launchready.monitor.web.app",
        "WebSettings": "launchready.monitor.web.settings",
    },
)
