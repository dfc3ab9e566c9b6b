"""What a received message says, judged: links, text part, unsubscribe headers, sender domains, size.

Pure: no I/O. Whether each link answers is a network question for a later probe; here a link is
judged by what it points at.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from launchready.core.masking import mask_credentials, mask_secret
from launchready.email.psl import organizational_domain
from launchready.mailtest.message import ParsedMessage, domain_of, html_links

# Gmail clips an HTML body over 102 KB behind a "View entire message" link (hiding what follows,
# often the unsubscribe footer); most providers refuse messages over 25 MB, many over 10 MB.
CLIP_BYTES = 102 * 1024
MAX_BYTES = 10 * 1024 * 1024
_TEXT_URL = re.compile(r"""\b(?:https?|ftp)://[^\s<>"')\]]+""", re.IGNORECASE)
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class ContentPolicy:
    """What the product declared: its domains, the hosts links may point at, its staging hosts."""

    product_domains: tuple[str, ...] = ()
    declared_hosts: tuple[str, ...] = ()  # besides the product domains and their subdomains
    staging_hosts: tuple[str, ...] = ()
    transactional: bool = True  # False: bulk/marketing mail, which needs one-click unsubscribe


@dataclass(frozen=True)
class ContentIssue:
    kind: str  # a finding id's last part
    detail: str


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def is_local_host(host: str) -> bool:
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host and ":" not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def links_of(message: ParsedMessage) -> tuple[list[str], list[str]]:
    """(links, image sources) from every HTML and text/plain part, in order, without repeats."""
    links: list[str] = []
    images: list[str] = []
    for part in message.parts:
        if part.content_type == "text/html":
            part_links, part_images = html_links(part.text)
            links.extend(part_links)
            images.extend(part_images)
        elif part.content_type == "text/plain":
            links.extend(_TEXT_URL.findall(part.text))
    return list(dict.fromkeys(links)), list(dict.fromkeys(images))


def shown_url(url: str) -> str:
    """The URL as evidence: verification, reset and invite links carry their token in the query,
    the fragment or a long path segment, so every query value, the fragment and any path segment
    of 20 characters or more is masked."""
    try:
        parts = urlsplit(url[:2000])
    except ValueError:
        return mask_credentials(url[:80])
    path = "/".join(mask_secret(seg) if len(seg) >= 20 else seg for seg in parts.path.split("/"))
    query = "&".join(f"{k}={mask_secret(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    text = f"{parts.scheme}://{netloc}{path}" if parts.scheme else path
    if query:
        text += f"?{query}"
    if parts.fragment:
        text += f"#{mask_secret(parts.fragment)}"
    return mask_credentials(text)[:300]


def _judge_url(url: str, policy: ContentPolicy, *, image: bool) -> ContentIssue | None:
    what = "image" if image else "link"
    shown = shown_url(url)
    lowered = url.lower()
    if lowered.startswith(("mailto:", "tel:", "#")) or (image and lowered.startswith(("cid:", "data:"))):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return ContentIssue(f"bad-{what}", f"{shown}: not a valid URL")
    if not parts.scheme or not host:
        return ContentIssue(f"relative-{what}", f"{shown}: relative; a mail client has no base to resolve it against")
    if is_local_host(host):
        return ContentIssue(f"local-{what}", f"{shown}: points at {host}, unreachable for the recipient")
    if any(_under(host, s.lower()) for s in policy.staging_hosts):
        return ContentIssue(f"staging-{what}", f"{shown}: points at the staging host {host}")
    if parts.scheme.lower() != "https":
        return ContentIssue(f"http-{what}", f"{shown}: {parts.scheme} instead of https")
    allowed = (*policy.product_domains, *policy.declared_hosts)
    if allowed and not any(_under(host, d.lower()) for d in allowed):
        return ContentIssue(f"undeclared-{what}-host", f"{shown}: {host} is not a declared host")
    return None


def judge_content(message: ParsedMessage, policy: ContentPolicy) -> list[ContentIssue]:
    issues: list[ContentIssue] = []
    if message.defects:
        issues.append(ContentIssue("mime-defects", "the parser found: " + ", ".join(message.defects[:10])))
    if not message.has_part("text/plain"):
        kinds = ", ".join(sorted({p.content_type for p in message.parts})) or "none"
        issues.append(ContentIssue("no-text-part", f"no text/plain part (parts: {kinds})"))
    links, images = links_of(message)
    for url in links:
        issue = _judge_url(url, policy, image=False)
        if issue is not None:
            issues.append(issue)
    for url in images:
        issue = _judge_url(url, policy, image=True)
        if issue is not None:
            issues.append(issue)
    if not policy.transactional:
        issues.extend(_judge_unsubscribe(message))
    product_orgs = {organizational_domain(d) for d in policy.product_domains}
    if product_orgs:
        for name in ("from", "reply-to"):
            for address in message.addresses(name):
                domain = domain_of(address)
                if domain and organizational_domain(domain) not in product_orgs:
                    issues.append(
                        ContentIssue(
                            f"{name}-off-domain",
                            f"{name.title()}: {address} is not on {', '.join(sorted(product_orgs))}",
                        )
                    )
    if message.size > MAX_BYTES:
        issues.append(ContentIssue("too-large", f"{message.size} bytes; many providers refuse over {MAX_BYTES}"))
    html_sizes = [len(p.text.encode("utf-8")) for p in message.parts if p.content_type == "text/html"]
    if html_sizes and max(html_sizes) > CLIP_BYTES:
        issues.append(
            ContentIssue("html-clipped", f"HTML body of {max(html_sizes)} bytes; Gmail clips over {CLIP_BYTES}")
        )
    return issues


def _judge_unsubscribe(message: ParsedMessage) -> list[ContentIssue]:
    """RFC 2369 List-Unsubscribe and RFC 8058 one-click, required by Gmail and Yahoo for bulk mail."""
    value = message.first("list-unsubscribe")
    if value is None:
        return [ContentIssue("no-list-unsubscribe", "no List-Unsubscribe header")]
    uris = re.findall(r"<([^>]*)>", value)
    https = [u for u in uris if u.lower().startswith("https://")]
    post = (message.first("list-unsubscribe-post") or "").replace(" ", "").lower()
    issues = []
    if not https:
        issues.append(
            ContentIssue(
                "no-one-click-unsubscribe",
                f"List-Unsubscribe: {', '.join(shown_url(u) for u in uris) or '(no <URI>)'} has no https URI",
            )
        )
    elif post != "list-unsubscribe=one-click":
        issues.append(
            ContentIssue("no-one-click-unsubscribe", "no 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' header")
        )
    return issues
