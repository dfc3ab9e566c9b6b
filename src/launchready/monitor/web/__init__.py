"""The monitor's web side: dashboard, heartbeat pings, JSON API, /metrics and /healthz (Starlette).

``create_app(engine, settings, routing=..., clock=...)`` returns the ASGI app the serve command
runs with uvicorn next to the scheduler and the alert worker.
"""

from launchready.monitor.store.pings import Routing
from launchready.monitor.web.app import create_app
from launchready.monitor.web.settings import WebSettings

__all__ = ["Routing", "WebSettings", "create_app"]
