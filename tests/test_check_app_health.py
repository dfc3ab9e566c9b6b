"""app.health: the judging logic on HTTP exchanges, then the check against the lab's app."""

from __future__ import annotations

import pytest

from launchready.checks.app.health import body_excerpt, judge
from launchready.core.errors import CouldNotRun
from launchready.core.masking import mask_credentials
from launchready.core.severity import Impact, Severity
from launchready.probes.http import HttpExchange

URL = "https://app.shop.test/health"
DB_PASSWORD = "hunter2-very-secret-password"
API_TOKEN = "tok_live_0123456789abcdef"


def answer(status: int | None, body: bytes = b"", url: str = URL, **kw: object) -> HttpExchange:
    return HttpExchange(url, "GET", status, body=body, body_size=len(body), **kw)  # type: ignore[arg-type]


def test_2xx_passes() -> None:
    assert judge("production", URL, (answer(200, b'{"ok": true}'),)) == []
    assert judge("production", URL, (answer(204),)) == []


def test_a_redirect_then_200_passes() -> None:
    chain = (answer(301, headers=(("location", URL + "/"),)), answer(200, url=URL + "/"))
    assert judge("production", URL, chain) == []


def test_non_2xx_is_down_with_status_and_masked_body() -> None:
    body = (
        b'{"status": "fail", "db": "postgres://app:' + DB_PASSWORD.encode() + b'@db:5432/app",'
        b' "api_token": "' + API_TOKEN.encode() + b'"}'
    )
    [f] = judge("production", URL, (answer(503, body),))
    assert f.id == "app.health.down"
    assert f.severity is Severity.BLOCKER and f.impact is Impact.AVAILABILITY
    assert f.title == "The production health route answers 503"
    assert f.target == URL
    text = " ".join(f.evidence)
    assert "environment: production" in f.evidence
    assert f"GET {URL} -> 503" in f.evidence
    assert '"status": "fail"' in text
    assert DB_PASSWORD not in text and API_TOKEN not in text
    assert "postgres://app:hunt…(" in text and "tok_…(" in text


def test_a_200_that_breaks_off_is_down() -> None:
    [f] = judge("production", URL, (answer(200, error="connection reset", error_kind="reset"),))
    assert f.id == "app.health.down"
    assert "broke off" in f.title


def test_a_redirect_loop_is_down() -> None:
    chain = (answer(302, headers=(("location", URL),), redirect_stop="loop"),)
    [f] = judge("staging", URL, chain)
    assert f.id == "app.health.down"
    assert "stopped on a redirect loop" in f.evidence


@pytest.mark.parametrize("kind", ["refused", "reset", "timeout", "tls", "dns", "protocol"])
def test_no_answer_is_unreachable(kind: str) -> None:
    [f] = judge("production", URL, (answer(None, error=f"{kind}!", error_kind=kind),))
    assert f.id == "app.health.unreachable"
    assert f.severity is Severity.BLOCKER
    assert f"error: {kind}!" in f.evidence
    assert f"({kind})" in f.remediation


def test_unreachable_after_a_redirect_names_the_last_hop() -> None:
    chain = (
        answer(301, headers=(("location", "https://x.test/h"),)),
        answer(None, url="https://x.test/h", error="refused", error_kind="refused"),
    )
    [f] = judge("production", URL, chain)
    assert "GET https://x.test/h -> no answer (refused)" in f.evidence


def test_url_passwords_are_masked_in_the_target() -> None:
    [f] = judge("production", f"https://ops:{DB_PASSWORD}@app.shop.test/health", (answer(500),))
    assert DB_PASSWORD not in f.target


def test_no_request_is_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge("production", URL, ())


def test_excerpt_is_collapsed_and_capped() -> None:
    excerpt = body_excerpt(b"a\n\n  b " + b"x" * 1000, limit=20)
    assert excerpt.startswith("a b x") and excerpt.endswith("…") and len(excerpt) == 21


def test_mask_credentials_masks_secret_pairs() -> None:
    masked = mask_credentials(f"password={DB_PASSWORD}&user=bob SECRET_KEY: {API_TOKEN}")
    assert DB_PASSWORD not in masked and API_TOKEN not in masked and "user=bob" in masked
