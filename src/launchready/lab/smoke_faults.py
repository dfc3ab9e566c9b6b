"""Fault switches that break a user flow while every page still looks fine to a crawler.

They act at the edges of the marketplace (a middleware, the mailer) so the app's handlers stay
the clean behaviour: invite acceptance answers 500, the verification email is never sent (the
page still says "check your inbox"), the payment webhook rejects correctly signed events (the
app was deployed with the wrong signing secret), and the dashboard forgets the session.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from launchready.lab.mailer import Mailer, SendResult
from launchready.lab.web import Handler

INVITE_500 = "invite-accept-500"
NO_VERIFICATION_EMAIL = "verification-email-missing"
WEBHOOK_REJECTS = "webhook-rejects-valid"
DASHBOARD_LOSES_AUTH = "dashboard-loses-auth"
VERIFICATION_SUBJECT = "Confirm your"


def smoke_fault_middleware(faults: frozenset[str]) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if INVITE_500 in faults and request.method == "POST" and request.path.startswith("/invite/"):
            return web.Response(status=500, text="Internal Server Error\n", headers={"Cache-Control": "no-store"})
        if WEBHOOK_REJECTS in faults and request.method == "POST" and request.path == "/webhooks/payments":
            return web.json_response(
                {"error": "signature does not match the payload"}, status=400, headers={"Cache-Control": "no-store"}
            )
        if DASHBOARD_LOSES_AUTH in faults and request.path == "/dashboard":
            raise web.HTTPSeeOther("/login", headers={"Cache-Control": "private, no-store"})
        return await handler(request)

    return middleware


class _SilentVerificationMailer(Mailer):
    async def send(self, to: str, subject: str, text: str) -> SendResult:
        if subject.startswith(VERIFICATION_SUBJECT):
            return SendResult(True)  # the provider "accepted" it; nothing ever arrives
        return await super().send(to, subject, text)


def lab_mailer(faults: frozenset[str], **kwargs: Any) -> Mailer:
    cls = _SilentVerificationMailer if NO_VERIFICATION_EMAIL in faults else Mailer
    return cls(**kwargs)
