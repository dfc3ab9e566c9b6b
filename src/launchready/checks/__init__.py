"""Built-in checks, one per module in an area folder; launchready.core.registry finds them.

The audit starts its checks in this area order (then by module path): the foundations first,
and the performance measurements last, so a page load or a load test is not measured while
the crawls and the smoke flows are still hammering the same servers. A new area goes in here.
"""

AREA_ORDER: tuple[str, ...] = ("dns", "tls", "web", "email", "app", "repo", "env", "perf")
