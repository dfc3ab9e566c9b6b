"""Content findings of a received message: links, images, text part, unsubscribe headers, sender domains."""

from __future__ import annotations

import pytest
from mailzone import message

from launchready.mailtest.content import ContentPolicy, judge_content
from launchready.mailtest.message import parse_message

POLICY = ContentPolicy(product_domains=("shop.test",), staging_hosts=("staging.shop.test",))


def kinds(raw: bytes, policy: ContentPolicy = POLICY) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for issue in judge_content(parse_message(raw), policy):
        out.setdefault(issue.kind, []).append(issue.detail)
    return out


def test_a_clean_transactional_message_has_no_issues() -> None:
    assert kinds(message()) == {}


@pytest.mark.parametrize(
    ("href", "kind"),
    [
        ("http://localhost:3000/reset?t=1", "local-link"),
        ("https://127.0.0.1/reset", "local-link"),
        ("https://app.internal/reset", "local-link"),
        ("https://staging.shop.test/reset", "staging-link"),
        ("http://shop.test/reset", "http-link"),
        ("/reset?t=1", "relative-link"),
        ("https://evil.example/reset", "undeclared-link-host"),
    ],
)
def test_bad_links_in_html(href: str, kind: str) -> None:
    found = kinds(message(html=f'<a href="{href}">Reset</a>'))
    assert list(found) == [kind]
    assert found[kind][0].startswith(href.partition("?")[0])


def test_tokens_in_links_are_masked_in_the_evidence() -> None:
    token = "Zx81kQ0pLmT7vW2sYb4n"
    html = (
        f'<a href="http://localhost:3000/reset?token={token}&u=42">Reset</a>'
        f'<a href="http://localhost:3000/invite/{token}">Join</a>'
        f'<a href="http://localhost:3000/verify#{token}">Verify</a>'
    )
    details = kinds(message(html=html, text="see the HTML part"))["local-link"]
    assert details == [
        "http://localhost:3000/reset?token=Zx81…(20 chars)&u=…(2 chars): points at localhost, unreachable for the recipient",
        "http://localhost:3000/invite/Zx81…(20 chars): points at localhost, unreachable for the recipient",
        "http://localhost:3000/verify#Zx81…(20 chars): points at localhost, unreachable for the recipient",
    ]


def test_links_in_the_text_part_are_judged_too() -> None:
    assert "local-link" in kinds(message(text="Reset: http://localhost:8000/r?t=1"))


def test_mailto_and_cid_are_not_links_to_judge() -> None:
    html = '<a href="mailto:help@shop.test">Help</a><img src="cid:logo">'
    assert kinds(message(html=html)) == {}


def test_images_over_http_and_declared_cdn() -> None:
    html = '<img src="http://shop.test/logo.png"><img src="https://cdn.example/a.png">'
    assert set(kinds(message(html=html))) == {"http-image", "undeclared-image-host"}
    declared = ContentPolicy(product_domains=("shop.test",), declared_hosts=("cdn.example",))
    assert set(kinds(message(html=html), declared)) == {"http-image"}


def test_html_only_mail_has_no_text_part() -> None:
    assert "no-text-part" in kinds(message(text=None))


def test_bulk_mail_needs_one_click_unsubscribe() -> None:
    bulk = ContentPolicy(product_domains=("shop.test",), transactional=False)
    assert "no-list-unsubscribe" in kinds(message(), bulk)
    mailto_only = message(extra=[("List-Unsubscribe", "<mailto:unsub@shop.test>")])
    assert "no-one-click-unsubscribe" in kinds(mailto_only, bulk)
    no_post = message(extra=[("List-Unsubscribe", "<https://shop.test/u/1>")])
    assert "no-one-click-unsubscribe" in kinds(no_post, bulk)
    good = message(
        extra=[("List-Unsubscribe", "<https://shop.test/u/1>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    )
    assert kinds(good, bulk) == {}
    # Transactional mail (a password reset) needs no unsubscribe header.
    assert "no-list-unsubscribe" not in kinds(message())


def test_from_and_reply_to_off_the_product_domain() -> None:
    raw = message(sender="noreply@mailer.example", extra=[("Reply-To", "help@other.example")])
    found = kinds(raw)
    assert set(found) == {"from-off-domain", "reply-to-off-domain"}
    # A subdomain of the product is on its domain.
    assert kinds(message(sender="noreply@mail.shop.test")) == {}


def test_a_large_html_body_is_clipped_by_gmail() -> None:
    html = "<p>" + "x" * (110 * 1024) + "</p>"
    assert "html-clipped" in kinds(message(html=html))
