"""Lab faults that make the web.* checks fire (lab/web.py, lab/surface.py, lab/hsts_lab.py,
lab/score_lab.py, lab/cache_lab.py)."""

from __future__ import annotations

from launchready.core.labfault import LAB_WEB_HOSTS, LabFault, each

_MISSING_HEADERS = ("csp-missing", "framing-missing", "referrer-missing", "nosniff-missing", "version-leak")

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "http-no-redirect",
        "plain HTTP on the apex serves the page instead of redirecting to HTTPS",
        each("web.https-redirect.missing", "{domain}"),
    ),
    LabFault(
        "http-redirect-drops-path",
        "plain HTTP redirects every URL to the HTTPS home page, dropping path and query",
        each("web.https-redirect.drops-path", *LAB_WEB_HOSTS),
    ),
    LabFault(
        "no-hsts", "HTTPS responses carry no Strict-Transport-Security header", each("web.hsts.missing", *LAB_WEB_HOSTS)
    ),
    LabFault("hsts-short", "HSTS is sent with max-age=86400 (one day)", each("web.hsts.short-max-age", *LAB_WEB_HOSTS)),
    LabFault(
        "hsts-http-only",
        "HSTS is sent only on plain-HTTP responses, where browsers ignore it",
        each("web.hsts.http-only", *LAB_WEB_HOSTS),
    ),
    LabFault(
        "hsts-no-subdomains",
        "HSTS leaves out includeSubDomains although every host serves valid HTTPS",
        each("web.hsts.no-include-subdomains", "{domain}"),
    ),
    LabFault(
        "hsts-subdomain-no-https",
        "legacy. serves plain HTTP only (no certificate of its own) under the apex's HSTS includeSubDomains",
        each("web.hsts.subdomain-not-https", "{domain}"),
    ),
    LabFault(
        "public-cache-private-page",
        "the member dashboard sets a session cookie and Cache-Control: public",
        each("web.private-cache.shared-cacheable", "https://app.{domain}/dashboard"),
    ),
    LabFault(
        "vary-cookie-public",
        "the apex's /pricing varies by the session cookie (Vary: Cookie) but is Cache-Control: public, max-age=600",
        each("web.private-cache.personalised-shared-cacheable", "https://{domain}/pricing"),
    ),
    LabFault(
        "www-serves-content",
        "www. serves the site itself instead of redirecting to the apex",
        each("web.canonical-host.both-serve", "{domain}"),
    ),
    LabFault(
        "redirect-chain",
        "the home page links to /old-pricing, two redirects away from /pricing",
        each("web.links.redirect-chain", "{domain}"),
    ),
    LabFault(
        "redirect-loop",
        "the home page links to /promo, which redirects to /promo/ and back",
        each("web.links.redirect-loop", "{domain}"),
    ),
    LabFault(
        "temporary-move",
        "the home page links to /team, moved to /about with a 302",
        each("web.links.temporary-redirect", "{domain}"),
    ),
    LabFault(
        "lost-query",
        "the home page links to /plans?ref=home, which redirects without the query",
        each("web.links.lost-query", "{domain}"),
    ),
    LabFault(
        "broken-link", "the home page links to /careers, which does not exist", each("web.links.broken", "{domain}")
    ),
    LabFault(
        "redirect-map-broken",
        "/about-us from the redirect map answers 404 instead of redirecting",
        each("web.redirect-map.broken", "{domain}"),
    ),
    LabFault(
        "mixed-content",
        "the apex home page loads its logo over http://",
        each("web.mixed-content.passive", "{domain}"),
    ),
    LabFault(
        "missing-headers",
        "HTML is served without CSP, X-Frame-Options, Referrer-Policy, nosniff, and Server names the versions",
        tuple(
            pair
            for problem in _MISSING_HEADERS
            for pair in each(f"web.headers.{problem}", "{domain}", "app.{domain}", "admin.{domain}")
        )
        + each("web.headers.version-leak", "www.{domain}", "api.{domain}"),
    ),
    LabFault(
        "external-script-no-sri",
        "the apex home page loads a third-party widget script without an integrity attribute",
        each("web.headers.sri-missing", "{domain}"),
    ),
    LabFault(
        "cors-wildcard-credentials",
        "app. answers Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
        each("web.headers.cors-credentials", "app.{domain}"),
    ),
    LabFault(
        "assets-uncacheable",
        "static assets are sent with Cache-Control: no-store and no validator",
        each("web.caching.asset-uncacheable", "{domain}", "app.{domain}", "admin.{domain}"),
    ),
    LabFault(
        "html-cache-stale",
        "/pricing is cached for a day in shared caches without revalidation",
        each("web.caching.html-stale", "{domain}"),
    ),
    LabFault(
        "no-cdn",
        "no CDN edge in front of any host: the origin answers directly",
        each("web.edge.no-cdn", "{domain}", "www.{domain}", "app.{domain}"),
    ),
    LabFault(
        "exposed-origin",
        "origin. resolves to the origin, which serves the site without the edge",
        each("web.edge.exposed-origin", "{domain}"),
    ),
    LabFault(
        "open-admin",
        "admin. shows the admin dashboard without asking anyone to sign in",
        each("web.admin-surface.open", "admin.{domain}"),
    ),
)
