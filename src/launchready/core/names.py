"""Names an audit guesses under a domain: the subdomains products commonly use, common DKIM selectors.

Discovery, the DNS map and the checks all read these lists, so they live at the bottom layer.
"""

from __future__ import annotations

# Names products commonly put under their domain; discovery asks each one.
COMMON_SUBDOMAINS: tuple[str, ...] = (
    "app", "admin", "api", "mail", "status", "blog", "docs", "help", "staging", "dev", "cdn",
    "assets", "static", "auth", "login", "dashboard", "portal", "shop", "support", "beta", "my",
    "account", "accounts", "community", "members", "media", "images", "files", "store", "pay",
    "billing", "checkout", "id", "sso", "console", "cms", "hooks", "webhooks", "ws", "test",
    "demo", "preview", "sandbox", "uat", "qa", "m", "go", "news", "email", "webmail",
)  # fmt: skip


# Selectors the big senders publish by default (Google Workspace, Microsoft 365, Mailchimp/
# Mandrill, SendGrid, Amazon SES easy-DKIM uses random tokens and cannot be guessed).
COMMON_DKIM_SELECTORS: tuple[str, ...] = (
    "google", "selector1", "selector2", "s1", "s2", "k1", "k2", "k3", "default", "mail", "dkim",
    "smtp", "mandrill", "mxvault", "pm", "postmark", "sendgrid", "smtpapi", "mailjet", "resend",
    "zoho", "fm1", "fm2", "fm3", "protonmail", "protonmail2", "protonmail3", "everlytickey1", "cm",
)  # fmt: skip
