"""The marketplace app (app. host) and its JSON API (api. host).

Flows: sign up -> verification email -> verify -> log in -> dashboard; invite a friend ->
invite email -> accept; forgotten password -> reset email -> new password; member directory search; community feed; checkout creates a pending
order that the payment provider's signed webhook marks paid; a health route.

Sessions: every visitor of an HTML page gets a ``session`` cookie (anonymous until login,
rotated at login and logout, like most web frameworks). The dashboard re-sends it on every
response to slide its expiry, which is what makes its Cache-Control matter.

The payment webhook takes ``{"id": "evt_...", "type": "payment.succeeded",
"data": {"order_id": N}}`` signed as in :mod:`launchready.lab.payments`.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from launchready.lab.assets import SiteAssets
from launchready.lab.error_reporting import ErrorReporter
from launchready.lab.hosts import LabHosts
from launchready.lab.mail_faults import RESET_LINK_LOCALHOST
from launchready.lab.mailer import Mailer
from launchready.lab.monitor_lab import FlakyHealth
from launchready.lab.pages import Pages
from launchready.lab.payments import SIGNATURE_HEADER, verify_webhook
from launchready.lab.smoke_faults import smoke_fault_middleware
from launchready.lab.store import (
    SESSION_LIFETIME_SECONDS,
    DuplicateEmail,
    Member,
    Session,
    Store,
)
from launchready.lab.web import Handler, static_routes

SESSION_COOKIE = "session"
PRIVATE_CACHE = "private, no-store"
# The public-cache-private-page fault: what a CDN-friendly default applied to every page looks like.
PUBLIC_CACHE = "public, max-age=600"
PRO_PRICE_CENTS = 2900
PRO_CURRENCY = "USD"
MIN_PASSWORD_LENGTH = 8

# Machine-facing routes: no session for monitors, webhooks and asset fetches.
_STATELESS_PREFIXES = ("/health", "/webhooks/", "/static/")


@dataclass
class _Visit:
    """Per-request session state, shared by the session middleware and the handler."""

    session: Session
    set_cookie: bool


@dataclass(frozen=True)
class AppSettings:
    hosts: LabHosts
    faults: frozenset[str]
    webhook_secret: str


def _to_login() -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/login")


def _json(payload: object, *, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, headers={"Cache-Control": "no-store"})


def _directory_entry(member: Member, release_after_deploy: bool) -> dict[str, Any]:
    """A member as the public directory shows it (display name only, never the email address)."""
    fields = asdict(member)
    if release_after_deploy:
        # new-error-after-deploy: the new release reads the column a migration was meant to add.
        return {"id": fields["id"], "name": fields["name"], "joined": int(fields["joined_at"])}
    return {"id": fields["id"], "name": fields["name"], "joined": int(fields["created_at"])}


class Marketplace:
    def __init__(
        self,
        settings: AppSettings,
        store: Store,
        mailer: Mailer,
        pages: Pages,
        assets: SiteAssets,
        errors: ErrorReporter | None = None,
    ) -> None:
        self._settings = settings
        # Reports handler exceptions with sentry-sdk and holds the release (lab/error_reporting.py).
        self._errors = errors if errors is not None else ErrorReporter(None, settings.faults)
        self._hosts = settings.hosts
        self._faults = settings.faults
        self._flaky_health = FlakyHealth(settings.faults)  # lab/monitor_lab.py
        self._store = store
        self._mailer = mailer
        self._pages = pages
        self._assets = assets
        # A context variable rather than request storage: the middleware and the handler run in
        # the same task, and aiohttp only types request storage from 3.12 on.
        self._visit: ContextVar[_Visit] = ContextVar("marketlab_visit")

    # -- sessions --------------------------------------------------------------------------

    def _member(self) -> Member | None:
        """The logged-in member of the request being handled, if any."""
        visit = self._visit.get(None)
        return visit.session.member if visit is not None else None

    def _start_session(self, member_id: int | None) -> None:
        """Replace the visitor's session (a new id on login/logout prevents session fixation)."""
        visit = self._visit.get()
        self._store.delete_session(visit.session.id)
        visit.session = self._store.create_session(member_id)
        visit.set_cookie = True

    @web.middleware
    async def _sessions(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(_STATELESS_PREFIXES):
            return await handler(request)
        cookie = request.cookies.get(SESSION_COOKIE)
        session = self._store.session(cookie) if cookie else None
        visit = _Visit(session, False) if session is not None else _Visit(self._store.create_session(None), True)
        token = self._visit.set(visit)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Redirects are raised; they carry the cookie too.
            self._finish(visit, exc)
            raise
        finally:
            self._visit.reset(token)
        self._finish(visit, response)
        return response

    def _finish(self, visit: _Visit, response: web.StreamResponse) -> None:
        if visit.set_cookie:
            response.set_cookie(
                SESSION_COOKIE,
                visit.session.id,
                secure=True,
                httponly=True,
                samesite="Lax",
                max_age=SESSION_LIFETIME_SECONDS,
                path="/",
            )
        response.headers.setdefault("Cache-Control", PRIVATE_CACHE)

    # -- pages -----------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        if self._member() is not None:
            raise web.HTTPSeeOther("/dashboard")
        return self._pages.response("home.html.j2")

    async def signup_page(self, request: web.Request) -> web.StreamResponse:
        return self._pages.response("signup.html.j2")

    async def signup(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        name, email, password = (str(form.get(k, "")).strip() for k in ("name", "email", "password"))
        error = None
        if not name:
            error = "Please tell us your name."
        elif "@" not in email or email.startswith("@") or email.endswith("@"):
            error = "That email address does not look right."
        elif len(password) < MIN_PASSWORD_LENGTH:
            error = f"Passwords need at least {MIN_PASSWORD_LENGTH} characters."
        if error:
            return self._pages.response("signup.html.j2", status=400, error=error, name=name, email=email)
        try:
            member = self._store.create_member(email, name, password)
        except DuplicateEmail:
            return self._pages.response(
                "signup.html.j2", status=409, error="That email already has an account; log in instead.", name=name
            )
        token = self._store.create_verification_token(member.id)
        link = f"https://{self._hosts.app}/verify?token={token}"
        sent = await self._mailer.send(
            member.email,
            "Confirm your Market Lab account",
            f"Hi {member.name},\n\nConfirm your email address to finish signing up:\n\n{link}\n\n"
            "If you did not sign up, ignore this message.\n",
        )
        if not sent.sent:
            return self._pages.message(
                "Almost there",
                "Your account is created, but we could not send the confirmation email. Try again later.",
                status=502,
                kind="error",
            )
        return self._pages.message("Check your inbox", f"We sent a confirmation link to {member.email}.")

    async def verify(self, request: web.Request) -> web.StreamResponse:
        member = self._store.verify_email(request.query.get("token", ""))
        if member is None:
            return self._pages.message(
                "Link expired", "This confirmation link is invalid or was already used.", status=400, kind="error"
            )
        return self._pages.message("Email confirmed", "Thanks! You can now log in.", link=("/login", "Log in"))

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return self._pages.response("login.html.j2")

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
        member = self._store.authenticate(email, password)
        if member is None:
            return self._pages.response("login.html.j2", status=401, email=email, error="Invalid email or password.")
        if not member.verified:
            return self._pages.response(
                "login.html.j2", status=403, email=email, error="Confirm your email first: check your inbox."
            )
        self._start_session(member.id)
        raise web.HTTPSeeOther("/dashboard")

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self._start_session(None)
        raise web.HTTPSeeOther("/login")

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        # Slide the session's expiry on every dashboard view, so this response always sets the cookie.
        visit = self._visit.get()
        self._store.touch_session(visit.session.id)
        visit.set_cookie = True
        cache = PUBLIC_CACHE if "public-cache-private-page" in self._faults else PRIVATE_CACHE
        member = self._member()
        if member is None:
            redirect = _to_login()
            redirect.headers["Cache-Control"] = cache
            raise redirect
        notice = "Invitation sent." if request.query.get("invited") else None
        orders = self._store.orders_of(member.id)
        response = self._pages.response("dashboard.html.j2", member=member, notice=notice, orders=orders)
        response.headers["Cache-Control"] = cache
        return response

    async def create_invite(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        email = str((await request.post()).get("email", "")).strip()
        if "@" not in email:
            return self._pages.message(
                "Invite not sent", "That email address does not look right.", status=400, kind="error", member=member
            )
        invite = self._store.create_invite(member.id, email)
        link = f"https://{self._hosts.app}/invite/{invite.token}"
        await self._mailer.send(
            email,
            f"{member.name} invited you to Market Lab",
            f"{member.name} invited you to join Market Lab.\n\nAccept the invitation:\n\n{link}\n",
        )
        raise web.HTTPSeeOther("/dashboard?invited=1")

    async def invite_page(self, request: web.Request) -> web.StreamResponse:
        invite = self._store.invite(request.match_info["token"])
        if invite is None or invite.accepted_by is not None:
            return self._pages.message(
                "Invitation not found", "This invitation is invalid or was already used.", status=404, kind="error"
            )
        return self._pages.response("invite.html.j2", invite=invite)

    async def accept_invite(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        invite = self._store.invite(token)
        if invite is None or invite.accepted_by is not None:
            return self._pages.message(
                "Invitation not found", "This invitation is invalid or was already used.", status=404, kind="error"
            )
        form = await request.post()
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        if not name or len(password) < MIN_PASSWORD_LENGTH:
            error = f"Enter your name and a password of at least {MIN_PASSWORD_LENGTH} characters."
            return self._pages.response("invite.html.j2", status=400, invite=invite, error=error)
        try:
            member = self._store.accept_invite(token, name, password)
        except DuplicateEmail:
            return self._pages.message(
                "Already a member",
                "That email already has an account.",
                status=409,
                kind="error",
                link=("/login", "Log in"),
            )
        if member is None:
            return self._pages.message(
                "Invitation not found", "This invitation was already used.", status=404, kind="error"
            )
        self._start_session(member.id)
        raise web.HTTPSeeOther("/dashboard")

    async def reset_request_page(self, request: web.Request) -> web.StreamResponse:
        return self._pages.response("reset.html.j2", heading="Forgot your password?")

    async def reset_request(self, request: web.Request) -> web.StreamResponse:
        email = str((await request.post()).get("email", "")).strip()
        found = self._store.create_reset_token(email) if "@" in email else None
        if found is not None:
            member, token = found
            base = f"https://{self._hosts.app}"
            if RESET_LINK_LOCALHOST in self._faults:
                base = "http://localhost:3000"  # the framework's default base URL, never configured
            await self._mailer.send(
                member.email,
                "Reset your Market Lab password",
                f"Hi {member.name},\n\nChoose a new password here (the link works for an hour):\n\n"
                f"{base}/reset?token={token}\n\nIf you did not ask for this, ignore this message.\n",
            )
        # The same answer whether or not the address has an account: no member enumeration.
        return self._pages.message("Check your inbox", "If that address has an account, we sent it a reset link.")

    async def reset_page(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        if not self._store.reset_token_valid(token):
            return self._pages.message(
                "Link expired", "This reset link is invalid or was already used.", status=400, kind="error"
            )
        return self._pages.response("reset.html.j2", heading="Choose a new password", token=token)

    async def reset_password(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token, password = str(form.get("token", "")), str(form.get("password", ""))
        if len(password) < MIN_PASSWORD_LENGTH:
            error = f"Passwords need at least {MIN_PASSWORD_LENGTH} characters."
            return self._pages.response(
                "reset.html.j2", status=400, heading="Choose a new password", token=token, error=error
            )
        if self._store.reset_password(token, password) is None:
            return self._pages.message(
                "Link expired", "This reset link is invalid or was already used.", status=400, kind="error"
            )
        self._start_session(None)
        raise web.HTTPSeeOther("/login")

    async def members(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        query = request.query.get("q", "")
        results = self._store.search_members(query)
        return self._pages.response("members.html.j2", member=member, query=query, results=results)

    async def feed(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        return self._pages.response("feed.html.j2", member=member, posts=self._store.feed())

    async def post_to_feed(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        body = str((await request.post()).get("body", "")).strip()
        if not body or len(body) > 2000:
            error = "Posts need between 1 and 2000 characters."
            return self._pages.response(
                "feed.html.j2", status=400, member=member, posts=self._store.feed(), error=error
            )
        self._store.add_post(member.id, body)
        raise web.HTTPSeeOther("/feed")

    async def checkout_page(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        return self._pages.response(
            "checkout.html.j2", member=member, order=None, price_cents=PRO_PRICE_CENTS, currency=PRO_CURRENCY
        )

    async def checkout(self, request: web.Request) -> web.StreamResponse:
        member = self._member()
        if member is None:
            raise _to_login()
        order = self._store.create_order(member.id, PRO_PRICE_CENTS, PRO_CURRENCY)
        return self._pages.response("checkout.html.j2", status=201, member=member, order=order)

    # -- machine routes --------------------------------------------------------------------

    async def payment_webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        check = verify_webhook(self._settings.webhook_secret, body, request.headers.get(SIGNATURE_HEADER))
        if not check.valid:
            return _json({"error": check.reason}, status=400)
        try:
            event = json.loads(body)
            event_id, event_type = str(event["id"]), str(event["type"])
            data = event.get("data") or {}
        except (ValueError, KeyError, TypeError):
            return _json({"error": "the body is not a payment event"}, status=400)
        if event_type == "payment.succeeded":
            try:
                order_id = int(data["order_id"])
            except (KeyError, TypeError, ValueError):
                return _json({"error": "payment.succeeded needs data.order_id"}, status=400)
            # An unknown order is acknowledged anyway: a 4xx/5xx only makes the provider retry forever.
            known = self._store.record_payment(event_id, order_id)
            return _json({"received": True, "order_id": order_id, "applied": known})
        return _json({"received": True, "applied": False})

    async def health(self, request: web.Request) -> web.StreamResponse:
        if "health-down" in self._faults or self._flaky_health.fails_now():
            return _json({"status": "degraded"}, status=503)
        return _json({"status": "ok"})

    async def api_members(self, request: web.Request) -> web.StreamResponse:
        # The public directory: display names only, never email addresses.
        found = self._store.search_members(request.query.get("q", ""))
        broken = self._errors.broken_release
        return _json({"members": [_directory_entry(m, broken) for m in found]})

    # -- apps ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application(
            middlewares=[self._errors.middleware(), smoke_fault_middleware(self._faults), self._sessions]
        )
        application.add_routes(
            [
                web.get("/", self.home),
                web.get("/signup", self.signup_page),
                web.post("/signup", self.signup),
                web.get("/verify", self.verify),
                web.get("/login", self.login_page),
                web.post("/login", self.login),
                web.post("/logout", self.logout),
                web.get("/dashboard", self.dashboard),
                web.post("/invites", self.create_invite),
                web.get("/invite/{token}", self.invite_page),
                web.post("/invite/{token}", self.accept_invite),
                web.get("/password-reset", self.reset_request_page),
                web.post("/password-reset", self.reset_request),
                web.get("/reset", self.reset_page),
                web.post("/reset", self.reset_password),
                web.get("/members", self.members),
                web.get("/feed", self.feed),
                web.post("/feed", self.post_to_feed),
                web.get("/checkout", self.checkout_page),
                web.post("/checkout", self.checkout),
                web.post("/webhooks/payments", self.payment_webhook),
                web.get("/health", self.health),
            ]
            + static_routes(self._assets)
        )
        return application

    def api(self) -> web.Application:
        application = web.Application(middlewares=[self._errors.middleware()])
        application.add_routes([web.get("/health", self.health), web.get("/v1/members", self.api_members)])
        return application
