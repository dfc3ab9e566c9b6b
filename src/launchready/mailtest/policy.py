"""The content policy a configuration implies: what links, images and senders are judged against."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from launchready.config.model import Config
from launchready.mailtest.content import ContentPolicy

# Environments with these names are the product itself; any other is a staging-like copy whose
# host must never appear in production mail.
PRODUCTION_NAMES = ("production", "prod", "live")


def config_policy(
    config: Config,
    domains: Sequence[str] = (),
    declared: Sequence[str] = (),
    staging: Sequence[str] = (),
    bulk: bool = False,
) -> ContentPolicy:
    """The product's domain (``domains``, else the config's), its declared hosts, and every
    environment not named like production as a staging host."""
    product = [d.lower().rstrip(".") for d in domains] or ([config.domain.lower()] if config.domain else [])
    staging_hosts = [h.lower() for h in staging]
    for name, environment in config.environments.items():
        host = urlsplit(str(environment.base_url)).hostname
        if host and name.lower() not in PRODUCTION_NAMES:
            staging_hosts.append(host.lower())
    return ContentPolicy(
        product_domains=tuple(product),
        declared_hosts=tuple(h.lower() for h in declared),
        staging_hosts=tuple(dict.fromkeys(staging_hosts)),
        transactional=not bulk,
    )
