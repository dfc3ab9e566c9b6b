"""Lab faults that make the perf.* checks fire (lab/perf_routes.py, lab/assets.py).

Load and growth tests run only when the configuration opts in, so their faults carry a ``perf``
table for the lab test (merged over the test's own short, opted-in load settings).
"""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "feed-n-plus-one",
        "api. /v1/feed runs one query per member and returns them all",
        each("perf.growth.latency-grows", "https://api.{domain}/v1/feed"),
        lab_config={"perf": {}},
    ),
    LabFault(
        "search-no-index",
        "api. /v1/members/search scans every member (no index)",
        each("perf.growth.latency-grows", "https://api.{domain}/v1/members/search?q=Mem"),
        lab_config={"perf": {}},
    ),
    LabFault(
        "etag-ignored",
        "static assets send an ETag but never answer 304 to If-None-Match",
        each("perf.cache.no-revalidation", "https://{domain}{asset}", "https://app.{domain}{asset}"),
    ),
    LabFault(
        "heavy-page",
        "app.'s home page carries a ~900 kB hero image (slow on a mobile network)",
        each("perf.pageload.lcp-over-budget", "https://app.{domain}/"),
    ),
    LabFault(
        "session-drops-under-load",
        "app. forgets a member's session after 5 feed views and redirects to /login (a session store evicting under load)",
        each("perf.load.auth-lost", "https://app.{domain}/feed")
        + each("perf.load.error-rate-over-budget", "https://app.{domain}/feed"),
        lab_config={"perf": {"endpoints": [{"name": "member-feed", "path": "/feed", "login_flow": "login"}]}},
    ),
)
