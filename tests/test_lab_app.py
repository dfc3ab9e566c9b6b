"""The marketplace app end to end over HTTPS: sign-up mail, login, dashboard, invites, payments."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping

import pytest

from launchready.lab.client import LabClient, LabResponse
from launchready.lab.lab import Lab
from launchready.lab.payments import sign_webhook

APP = "https://app.marketlab.test"
MAIL_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def faulty_lab() -> Iterator[Lab]:
    with Lab(["public-cache-private-page", "health-down"]) as running:
        yield running


def new_email() -> str:
    return f"maker-{secrets.token_hex(4)}@example.test"


def link_in(lab: Lab, to: str, pattern: str, *, subject: str | None = None) -> str:
    message = lab.wait_for_message(to, MAIL_TIMEOUT, subject=subject)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(pattern, body.get_content())
    assert found, body.get_content()
    return found.group(0)


def sign_up_and_log_in(lab: Lab, client: LabClient, name: str = "Ada Maker") -> str:
    email = new_email()
    signup = client.post(f"{APP}/signup", form={"name": name, "email": email, "password": "correct horse"})
    assert signup.status == 200, signup.text
    link = link_in(lab, email, r"https://app\.marketlab\.test/verify\?token=[\w-]+")
    assert client.get(link).status == 200
    login = client.post(f"{APP}/login", form={"email": email, "password": "correct horse"})
    assert login.status == 303 and login.header("location") == "/dashboard"
    return email


def session_cookie(response: LabResponse) -> str:
    cookies = [c for c in response.header_all("set-cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    return cookies[0]


def test_signup_verify_login_dashboard(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    email = new_email()
    response = client.post(f"{APP}/signup", form={"name": "Grace", "email": email, "password": "hunter22!"})
    assert response.status == 200 and email in response.text

    message = lab.wait_for_message(email, MAIL_TIMEOUT)
    assert message["From"] == "Market Lab <no-reply@marketlab.test>"
    assert "Confirm" in message["Subject"]
    assert message in lab.messages()
    link = link_in(lab, email, r"https://app\.marketlab\.test/verify\?token=[\w-]+")

    # Not verified yet: login is refused.
    assert client.post(f"{APP}/login", form={"email": email, "password": "hunter22!"}).status == 403
    assert client.get(link).status == 200
    assert client.get(link).status == 400  # single use

    anonymous_id = client.cookies("app.marketlab.test")["session"]
    login = client.post(f"{APP}/login", form={"email": email, "password": "hunter22!"})
    assert login.status == 303
    cookie = session_cookie(login)
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert client.cookies("app.marketlab.test")["session"] != anonymous_id  # rotated at login

    dashboard = client.get(f"{APP}/dashboard")
    assert dashboard.status == 200
    assert "Welcome back, Grace" in dashboard.text
    assert dashboard.header("cache-control") == "private, no-store"
    assert session_cookie(dashboard)


def test_wrong_password_and_bad_signup(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    email = sign_up_and_log_in(lab, client)
    other = LabClient.for_lab(lab)
    assert other.post(f"{APP}/login", form={"email": email, "password": "wrong password"}).status == 401
    assert (
        other.post(f"{APP}/signup", form={"name": "X", "email": "not-an-email", "password": "longenough"}).status == 400
    )
    assert other.post(f"{APP}/signup", form={"name": "X", "email": email, "password": "longenough"}).status == 409


def test_dashboard_needs_login_and_every_app_page_is_private(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    response = client.get(f"{APP}/dashboard")
    assert response.status == 303 and response.header(
        "location",
    ).startswith("/login")  # type: ignore[union-attr]
    assert response.header("cache-control") == "private, no-store"
    for path in ("/", "/login", "/signup"):
        assert client.get(f"{APP}{path}").header("cache-control") == "private, no-store"


def test_fault_public_cache_private_page(faulty_lab: Lab) -> None:
    client = LabClient.for_lab(faulty_lab)
    anonymous = client.get(f"{APP}/dashboard")
    assert anonymous.header("cache-control") == "public, max-age=600"
    assert session_cookie(anonymous)
    sign_up_and_log_in(faulty_lab, client)
    dashboard = client.get(f"{APP}/dashboard")
    assert dashboard.status == 200
    assert dashboard.header("cache-control") == "public, max-age=600"
    assert session_cookie(dashboard)


def test_logout_ends_the_session(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    sign_up_and_log_in(lab, client)
    assert client.post(f"{APP}/logout").status == 303
    assert client.get(f"{APP}/dashboard").status == 303


def test_invite_create_and_accept(lab: Lab) -> None:
    inviter = LabClient.for_lab(lab)
    sign_up_and_log_in(lab, inviter, name="Inviter")
    friend = new_email()
    sent = inviter.post(f"{APP}/invites", form={"email": friend})
    assert sent.status == 303
    link = link_in(lab, friend, r"https://app\.marketlab\.test/invite/[\w-]+", subject="invited you")

    guest = LabClient.for_lab(lab)
    assert guest.get(link).status == 200
    accepted = guest.post(link, form={"name": "Invited Friend", "password": "friend-pass"})
    assert accepted.status == 303 and accepted.header("location") == "/dashboard"
    assert "Welcome back, Invited Friend" in guest.get(f"{APP}/dashboard").text
    assert guest.get(link).status == 404  # used


def test_member_directory_search_and_api(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    sign_up_and_log_in(lab, client, name="Zelda Searchable")
    found = client.get(f"{APP}/members?q=zelda")
    assert found.status == 200 and "Zelda Searchable" in found.text
    assert "Zelda Searchable" not in client.get(f"{APP}/members?q=%25nomatch%25").text
    api = LabClient.for_lab(lab).get("https://api.marketlab.test/v1/members?q=Zelda").json()
    assert [m["name"] for m in api["members"]] == ["Zelda Searchable"]
    assert "email" not in api["members"][0]
    assert LabClient.for_lab(lab).get(f"{APP}/members").status == 303  # login required


def test_feed_escapes_html(lab: Lab) -> None:
    client = LabClient.for_lab(lab)
    sign_up_and_log_in(lab, client, name="Poster")
    assert client.post(f"{APP}/feed", form={"body": "<b>launch</b> day"}).status == 303
    page = client.get(f"{APP}/feed").text
    assert "&lt;b&gt;launch&lt;/b&gt; day" in page and "<b>launch</b>" not in page


def checkout(lab: Lab) -> int:
    client = LabClient.for_lab(lab)
    sign_up_and_log_in(lab, client, name="Buyer")
    response = client.post(f"{APP}/checkout")
    assert response.status == 201
    found = re.search(r'data-order-id="(\d+)" data-order-status="pending"', response.text)
    assert found
    return int(found.group(1))


def webhook(lab: Lab, payload: Mapping[str, object], signature: str | None) -> LabResponse:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return LabClient.for_lab(lab).post(f"{APP}/webhooks/payments", body=body, headers=headers)


def test_payment_webhook_good_signature_marks_order_paid(lab: Lab) -> None:
    order_id = checkout(lab)
    payload = {"id": f"evt_{secrets.token_hex(6)}", "type": "payment.succeeded", "data": {"order_id": order_id}}
    body = json.dumps(payload).encode()
    response = webhook(lab, payload, sign_webhook(lab.webhook_secret, body))
    assert response.status == 200 and response.json()["applied"] is True
    order = lab.store.order(order_id)
    assert order is not None and order.status == "paid"
    assert response.header("set-cookie") is None  # machine route: no session


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,v1=00", "garbage", "SIGN_WITH_WRONG_SECRET", "SIGN_OTHER_BODY", "SIGN_OLD_TIMESTAMP"],
)
def test_payment_webhook_bad_signature_is_rejected(lab: Lab, signature: str | None) -> None:
    order_id = checkout(lab)
    payload = {"id": f"evt_{secrets.token_hex(6)}", "type": "payment.succeeded", "data": {"order_id": order_id}}
    body = json.dumps(payload).encode()
    if signature == "SIGN_WITH_WRONG_SECRET":
        signature = sign_webhook("whsec_not_the_lab_secret", body)
    elif signature == "SIGN_OTHER_BODY":
        signature = sign_webhook(lab.webhook_secret, body + b" ")
    elif signature == "SIGN_OLD_TIMESTAMP":
        signature = sign_webhook(lab.webhook_secret, body, timestamp=1_000_000_000)
    response = webhook(lab, payload, signature)
    assert response.status == 400
    assert "error" in response.json()
    order = lab.store.order(order_id)
    assert order is not None and order.status == "pending"


@pytest.mark.parametrize("host", ["app.marketlab.test", "api.marketlab.test"])
def test_health(lab: Lab, faulty_lab: Lab, host: str) -> None:
    healthy = LabClient.for_lab(lab).get(f"https://{host}/health")
    assert healthy.status == 200 and healthy.json() == {"status": "ok"}
    down = LabClient.for_lab(faulty_lab).get(f"https://{host}/health")
    assert down.status == 503 and down.json() == {"status": "degraded"}
