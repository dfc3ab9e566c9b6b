"""Lab faults that make the app.* checks fire (the health route in lab/app.py; the user flows in
lab/smoke.yaml broken by lab/smoke_faults.py; error reporting in the deploy exports of lab/repo.py,
whose DSN names lab/error_tracker.py)."""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "health-down", "the production health route answers 503", each("app.health.down", "https://app.{domain}/health")
    ),
    LabFault(
        "invite-accept-500",
        "accepting an invitation answers 500",
        each("app.smoke.signup-flow-failed", "https://app.{domain} flow:invite"),
    ),
    LabFault(
        "verification-email-missing",
        "signup says 'check your inbox' but the confirmation email is never sent",
        each("app.smoke.signup-flow-failed", "https://app.{domain} flow:signup"),
    ),
    LabFault(
        "webhook-rejects-valid",
        "the payment webhook rejects correctly signed events (wrong signing secret deployed)",
        each("app.smoke.payments-flow-failed", "https://app.{domain} flow:checkout"),
    ),
    LabFault(
        "dashboard-loses-auth",
        "the dashboard forgets the session and sends logged-in members back to /login",
        each("app.smoke.login-flow-failed", "https://app.{domain} flow:login"),
    ),
    LabFault(
        "error-reporting-missing",
        "nobody set up error reporting: no SENTRY_DSN in .env.example nor in any environment",
        each("app.errors.not-configured", "production:SENTRY_DSN"),
    ),
    LabFault(
        "error-dsn-dead",
        "production's SENTRY_DSN still names the self-hosted tracker that was shut down (its name no longer resolves)",
        each("app.errors.not-delivered", "production:SENTRY_DSN"),
    ),
)
