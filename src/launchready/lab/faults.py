"""The lab's fault switches: each one breaks the lab the way a real launch breaks.

Every audit check has at least one fault here that makes it fire, so its lab test sees it caught
and, with the fault off, sees it clean. ``launchready lab up --faults a,b`` and ``Lab(faults=...)``
take these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from launchready.lab.errors import LabError

LAB_DOMAIN = "marketlab.test"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    # Finding ids this fault is meant to trigger (documentation and test cross-check).
    triggers: tuple[str, ...]


FAULTS: tuple[Fault, ...] = (
    Fault("apex-no-address", "the apex has no A/AAAA record (only www resolves)", ("dns.apex.no-address",)),
    Fault("cert-expired", "admin. serves a certificate that expired 3 days ago", ("tls.certificate.expired",)),
    Fault("cert-expiring-soon", "app. serves a certificate that expires in 10 days", ("tls.certificate.expires-soon",)),
    Fault(
        "cert-wrong-host", "api. serves a certificate issued for another name", ("tls.certificate.hostname-mismatch",)
    ),
    Fault(
        "cert-self-signed", "www. serves a self-signed certificate no browser trusts", ("tls.certificate.untrusted",)
    ),
    Fault(
        "http-no-redirect",
        "plain HTTP on the apex serves the page instead of redirecting to HTTPS",
        ("web.https-redirect.missing",),
    ),
    Fault("no-hsts", "HTTPS responses carry no Strict-Transport-Security header", ("web.hsts.missing",)),
    Fault(
        "public-cache-private-page",
        "the member dashboard sets a session cookie and Cache-Control: public",
        ("web.private-cache.shared-cacheable",),
    ),
    Fault("spf-missing", "the domain publishes no SPF record", ("email.spf.missing",)),
    Fault("spf-plus-all", "the SPF record ends in +all (anyone may send as the domain)", ("email.spf.permissive-all",)),
    Fault("dmarc-missing", "no DMARC record at _dmarc", ("email.dmarc.missing",)),
    Fault("health-down", "the production health route answers 503", ("app.health.down",)),
    # -- DNS and email authentication (issue 3): records in lab/mail_zone.py --
    Fault(
        "spf-multiple",
        "a second SPF record (v=spf1 include:sendgrid.net ~all) beside the real one",
        ("email.spf.multiple",),
    ),
    Fault(
        "spf-too-many-lookups",
        "SPF includes a bulk-mail provider whose include tree costs 13 DNS lookups",
        ("email.spf.too-many-lookups", "email.spf.undeclared-include"),
    ),
    Fault("dmarc-none-no-rua", "DMARC is p=none with no rua= report address", ("email.dmarc.none-no-rua",)),
    Fault("dkim-weak-key", "the lab DKIM selector publishes a 1024-bit RSA key", ("email.dkim.weak-key",)),
    Fault("dkim-revoked", "the lab DKIM selector's key is revoked (empty p=)", ("email.dkim.revoked",)),
    Fault(
        "dkim-missing-selector", "the declared DKIM selector 'lab' has no key record", ("email.dkim.selector-missing",)
    ),
    Fault("mx-cname", "the MX names smtp., a CNAME to mail.", ("email.mx.cname-target",)),
    Fault(
        "dangling-cname",
        "the declared shop. is a CNAME to a deleted Elastic Beanstalk environment",
        ("dns.cname.takeover-risk",),
    ),
    Fault(
        "feed-n-plus-one",
        "api. /v1/feed runs one query per member and returns them all",
        ("perf.growth.latency-grows",),
    ),
    Fault("search-no-index", "api. /v1/members/search scans every member (no index)", ("perf.growth.latency-grows",)),
    Fault(
        "etag-ignored",
        "static assets send an ETag but never answer 304 to If-None-Match",
        ("perf.cache.no-revalidation",),
    ),
    Fault(
        "heavy-page",
        "app.'s home page carries a ~900 kB hero image (slow on a mobile network)",
        ("perf.pageload.lcp-over-budget",),
    ),
    Fault(
        "session-drops-under-load",
        "app. forgets a member's session after 5 feed views and redirects to /login (a session store evicting under load)",
        ("perf.load.auth-lost", "perf.load.error-rate-over-budget"),
    ),
    # -- the public surface (issue 4): TLS strength, HTTPS, HSTS, links, headers, caching, edge --
    Fault("tls-legacy", "every host still accepts TLS 1.0 and 1.1", ("tls.protocols.legacy-accepted",)),
    Fault("cert-weak-key", "api. serves a certificate with a 1024-bit RSA key", ("tls.key-strength.weak-key",)),
    Fault(
        "caa-forbids-issuer",
        "CAA allows only letsencrypt.org, but the live certificates come from the lab CA",
        ("tls.caa.issuer-not-permitted",),
    ),
    Fault(
        "http-redirect-drops-path",
        "plain HTTP redirects every URL to the HTTPS home page, dropping path and query",
        ("web.https-redirect.drops-path",),
    ),
    Fault("hsts-short", "HSTS is sent with max-age=86400 (one day)", ("web.hsts.short-max-age",)),
    Fault(
        "hsts-http-only", "HSTS is sent only on plain-HTTP responses, where browsers ignore it", ("web.hsts.http-only",)
    ),
    Fault(
        "hsts-no-subdomains",
        "HSTS leaves out includeSubDomains although every host serves valid HTTPS",
        ("web.hsts.no-include-subdomains",),
    ),
    Fault(
        "hsts-subdomain-no-https",
        "legacy. serves plain HTTP only (no certificate of its own) under the apex's HSTS includeSubDomains",
        ("web.hsts.subdomain-not-https",),
    ),
    Fault(
        "www-serves-content",
        "www. serves the site itself instead of redirecting to the apex",
        ("web.canonical-host.both-serve",),
    ),
    Fault(
        "redirect-chain",
        "the home page links to /old-pricing, two redirects away from /pricing",
        ("web.links.redirect-chain",),
    ),
    Fault(
        "redirect-loop",
        "the home page links to /promo, which redirects to /promo/ and back",
        ("web.links.redirect-loop",),
    ),
    Fault(
        "temporary-move", "the home page links to /team, moved to /about with a 302", ("web.links.temporary-redirect",)
    ),
    Fault(
        "lost-query",
        "the home page links to /plans?ref=home, which redirects without the query",
        ("web.links.lost-query",),
    ),
    Fault("broken-link", "the home page links to /careers, which does not exist", ("web.links.broken",)),
    Fault(
        "redirect-map-broken",
        "/about-us from the redirect map answers 404 instead of redirecting",
        ("web.redirect-map.broken",),
    ),
    Fault("mixed-content", "the apex home page loads its logo over http://", ("web.mixed-content.passive",)),
    Fault(
        "missing-headers",
        "HTML is served without CSP, X-Frame-Options, Referrer-Policy, nosniff, and Server names the versions",
        (
            "web.headers.csp-missing",
            "web.headers.framing-missing",
            "web.headers.referrer-missing",
            "web.headers.nosniff-missing",
            "web.headers.version-leak",
        ),
    ),
    Fault(
        "external-script-no-sri",
        "the apex home page loads a third-party widget script without an integrity attribute",
        ("web.headers.sri-missing",),
    ),
    Fault(
        "cors-wildcard-credentials",
        "app. answers Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
        ("web.headers.cors-credentials",),
    ),
    Fault(
        "assets-uncacheable",
        "static assets are sent with Cache-Control: no-store and no validator",
        ("web.caching.asset-uncacheable",),
    ),
    Fault(
        "vary-cookie-public",
        "the apex's /pricing varies by the session cookie (Vary: Cookie) but is Cache-Control: public, max-age=600",
        ("web.private-cache.personalised-shared-cacheable",),
    ),
    Fault(
        "html-cache-stale",
        "/pricing is cached for a day in shared caches without revalidation",
        ("web.caching.html-stale",),
    ),
    Fault("no-cdn", "no CDN edge in front of any host: the origin answers directly", ("web.edge.no-cdn",)),
    Fault(
        "exposed-origin",
        "origin. resolves to the origin, which serves the site without the edge",
        ("web.edge.exposed-origin",),
    ),
    Fault(
        "open-admin", "admin. shows the admin dashboard without asking anyone to sign in", ("web.admin-surface.open",)
    ),
    # -- user flows (issue 6): caught by the smoke flows in lab/smoke.yaml (app.smoke) --
    Fault("invite-accept-500", "accepting an invitation answers 500", ("app.smoke.signup-flow-failed",)),
    Fault(
        "verification-email-missing",
        "signup says 'check your inbox' but the confirmation email is never sent",
        ("app.smoke.signup-flow-failed",),
    ),
    Fault(
        "webhook-rejects-valid",
        "the payment webhook rejects correctly signed events (wrong signing secret deployed)",
        ("app.smoke.payments-flow-failed",),
    ),
    Fault(
        "dashboard-loses-auth",
        "the dashboard forgets the session and sends logged-in members back to /login",
        ("app.smoke.login-flow-failed",),
    ),
    # -- the app's repository and deploy configuration (issue 5): lab/repo.py --
    Fault("repo-secret-in-tree", "a live Stripe key is committed in app/payments.py", ("repo.secrets.exposed",)),
    Fault(
        "repo-secret-in-history",
        "an AWS key pair was committed, then removed (still in git history)",
        ("repo.secrets.in-history",),
    ),
    Fault(
        "repo-env-committed",
        "a .env file is committed and .gitignore does not list it",
        ("repo.env-files.tracked", "repo.env-files.not-ignored"),
    ),
    Fault(
        "repo-deploy-secret", "the Dockerfile sets ENV ADMIN_PASSWORD to a literal", ("repo.deploy-secrets.hardcoded",)
    ),
    Fault(
        "env-production-missing-var",
        "production's environment lacks POSTMARK_TOKEN, which the email flow needs",
        ("env.contract.flow-variable-missing",),
    ),
    # -- DNS and email authentication, part 2 (issue 3): lab/nameservers.py, lab/mail_zone.py, lab/mta_sts.py --
    Fault(
        "ns-serial-mismatch",
        "ns2 missed the last zone transfer and serves an older SOA serial",
        ("dns.ns.serial-mismatch",),
    ),
    Fault("ns-down", "ns2 is listed in NS but never answers", ("dns.ns.not-answering",)),
    Fault(
        "subdomain-missing", "the config declares status. but DNS has no record for it", ("dns.hosts.declared-missing",)
    ),
    Fault(
        "cname-unclaimed-bucket",
        "the declared assets. is a CNAME to an S3 bucket name that no longer exists",
        ("dns.cname.takeover-risk",),
    ),
    Fault(
        "mta-sts-bad-policy",
        "the MTA-STS policy is in testing mode and names an MX the domain does not use",
        ("email.mta-sts.testing-mode", "email.mta-sts.mx-mismatch"),
    ),
    Fault("tls-rpt-missing", "no TLS-RPT record at _smtp._tls", ("email.tls-rpt.missing",)),
    Fault(
        "dmarc-sender-unaligned",
        "the config declares Postmark as a sender, but no Postmark DKIM key or Return-Path is published",
        ("email.dmarc.sender-cannot-align",),
    ),
)

# What `launchready demo` switches on: the mix a real week-before-launch MVP tends to have.
DEMO_FAULTS: tuple[str, ...] = (
    "public-cache-private-page",
    "cert-expired",
    "http-no-redirect",
    "no-hsts",
    "dmarc-missing",
    "spf-plus-all",
    "dangling-cname",
    "verification-email-missing",
    "repo-secret-in-history",
)


def fault_names() -> tuple[str, ...]:
    return tuple(f.name for f in FAULTS)


def parse_faults(text: str | None) -> frozenset[str]:
    """Parse ``a,b,c`` (or ``all``/``none``); unknown names raise LabError naming them."""
    if not text or text.strip() in ("", "none"):
        return frozenset()
    if text.strip() == "all":
        return frozenset(fault_names())
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names - set(fault_names()))
    if unknown:
        raise LabError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(fault_names())}")
    return frozenset(names)
