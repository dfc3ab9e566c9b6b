"""The marketplace reports its errors with the official ``sentry-sdk``, as a founder's app would.

Given a DSN (``Lab(error_dsn=...)``, ``launchready lab up --error-dsn``: a project of
`launchready monitor project add`), every exception a handler raises is captured with the app's
release and environment and answered 500. The SDK runs on a client of its own (never the
process-wide ``sentry_sdk.init``), so a test process hosting several labs keeps them apart.

``sentry-sdk`` is a development dependency of launchready, not a runtime one: without it the
lab runs, says once why its errors go nowhere, and answers 500 all the same.

The release story: the app starts as ``marketlab@1.0.0``; ``Lab.deploy(version)`` is a deploy
(the release changes and the SDK client restarts with it, as a new process would). With the
monitor fault ``new-error-after-deploy`` the release after a deploy has a bug the first one did
not have: the member directory API (``GET https://api.DOMAIN/v1/members``) reads a field the
stored members do not have (``KeyError``), a new error group in the monitor, after the deploy
marker `launchready deploy` records.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aiohttp import web

from launchready.lab.web import Handler

NEW_ERROR_AFTER_DEPLOY = "new-error-after-deploy"
RELEASE_PREFIX = "marketlab@"
FIRST_VERSION = "1.0.0"
ENVIRONMENT = "production"
SDK_MISSING = (
    "the lab's app reports its errors with sentry-sdk, which is not installed here: its errors go nowhere "
    "(pip install sentry-sdk, or install launchready with its dev extras)"
)
_FLUSH_SECONDS = 5.0

log = logging.getLogger("launchready.lab")


class ErrorReporter:
    """The app's Sentry SDK client (None without a DSN or without the SDK) and its current release."""

    def __init__(self, dsn: str | None, faults: frozenset[str]) -> None:
        self.dsn = dsn
        self.version = FIRST_VERSION
        self.deploys = 0
        self._faults = faults
        self._lock = threading.Lock()
        self._client: Any = None
        self.unavailable: str | None = None
        if dsn is not None:
            self._client = self._new_client()

    @property
    def release(self) -> str:
        return RELEASE_PREFIX + self.version

    @property
    def broken_release(self) -> bool:
        """The release deployed after the first one has the new bug (with new-error-after-deploy)."""
        return NEW_ERROR_AFTER_DEPLOY in self._faults and self.deploys > 0

    def _new_client(self) -> Any:
        try:
            import sentry_sdk
        except ImportError:
            self.unavailable = SDK_MISSING
            log.warning("launchready lab: %s", SDK_MISSING)
            return None
        return sentry_sdk.Client(
            dsn=self.dsn,
            release=self.release,
            environment=ENVIRONMENT,
            default_integrations=False,
            server_name="marketlab-app",
        )

    def deploy(self, version: str) -> str:
        """A new release goes live: the SDK restarts with it (pending events are flushed first)."""
        with self._lock:
            old = self._client
            self.version = version
            self.deploys += 1
            if self.dsn is not None:
                self._client = self._new_client()
        if old is not None:
            old.close(timeout=_FLUSH_SECONDS)
        return self.release

    def capture(self, exc: BaseException, request: web.Request) -> None:
        client = self._client
        if client is None:
            return
        import sentry_sdk

        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            scope.set_transaction_name(f"{request.method} {request.path}")
            scope.set_tag("host", request.host)
            scope.capture_exception(exc)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close(timeout=_FLUSH_SECONDS)

    def middleware(self) -> Any:
        @web.middleware
        async def report_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                return await handler(request)
            except web.HTTPException:
                raise  # redirects and deliberate error pages are answers, not crashes
            except Exception as exc:  # noqa: BLE001 - what an app's error handler does: report, answer 500
                self.capture(exc, request)
                return web.Response(status=500, text="Internal Server Error\n", headers={"Cache-Control": "no-store"})

        return report_errors
