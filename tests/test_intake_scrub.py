"""The data scrubber: no secret in an event reaches the store."""

from __future__ import annotations

import json

import pytest

from launchready.intake.scrub import FILTERED, Scrubber, luhn_valid, scrub_text

# Built at run time so that no line of this file is itself a secret the repository scanner flags.
STRIPE_KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GITHUB_TOKEN = "ghp_" + "R2d2C3p0xWingYWing0123456789abcdEFGH"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + "x7Yq" * 40 + "\n-----END RSA PRIVATE KEY-----"


def _event() -> dict[str, object]:
    return {
        "message": f"charge failed with key {STRIPE_KEY} for card 4111-1111-1111-1111",
        "extra": {"password": "hunter2", "nested": {"api_key": "abc", "fine": "keep me"}, "note": GITHUB_TOKEN},
        "request": {
            "url": "https://admin:s3cretpw@shop.example/checkout?token=abcdef123456",
            "headers": {"Authorization": "Bearer eyJhbGciOi.payload.sig", "Cookie": "sessionid=xyz", "Accept": "*/*"},
            "cookies": {"sessionid": "xyz"},
            "data": {"card_number": "4242424242424242", "comment": "x" * 10_000, "email": "a@b.c"},
            "query_string": [["token", "abc123"], ["page", "2"]],
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad login: password=letmein123 for user 7",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "login",
                                "module": "shop.auth",
                                "vars": {"secret": "zzz", "user_id": 7, "key_material": PEM},
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": "GET https://u:pw123456@db.internal/x", "data": {"x-api-key": "k"}}]},
    }


def test_no_secret_survives_scrubbing() -> None:
    scrubbed = Scrubber(request_body_max_chars=512).scrub_event(_event())
    text = json.dumps(scrubbed)
    for secret in (
        STRIPE_KEY,
        GITHUB_TOKEN,
        "hunter2",
        "4111-1111-1111-1111",
        "4242424242424242",
        "s3cretpw",
        "eyJhbGciOi.payload.sig",
        "sessionid=xyz",
        "letmein123",
        "pw123456",
        "MIIEowIBAAKCAQEA",
    ):
        assert secret not in text, secret
    assert scrubbed["extra"]["nested"]["fine"] == "keep me"  # type: ignore[index]
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"  # type: ignore[index]
    assert scrubbed["request"]["headers"]["Authorization"] == FILTERED  # type: ignore[index]
    assert scrubbed["request"]["cookies"] == FILTERED  # type: ignore[index]
    assert scrubbed["request"]["query_string"] == [["token", FILTERED], ["page", "2"]]  # type: ignore[index]
    # The request body is capped.
    assert len(json.dumps(scrubbed["request"]["data"])) < 600  # type: ignore[index]


def test_the_input_is_not_changed() -> None:
    event = _event()
    before = json.dumps(event, sort_keys=True)
    Scrubber().scrub_event(event)
    assert json.dumps(event, sort_keys=True) == before


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("4242424242424242", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_numbers_that_are_not_cards_stay() -> None:
    assert scrub_text("order 1234567890123 shipped") == "order 1234567890123 shipped"  # fails Luhn
    assert scrub_text("card 4111 1111 1111 1111 declined") == f"card {FILTERED} declined"


def test_deep_nesting_is_trimmed_not_recursed() -> None:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(500):
        value = {"n": value}
    scrubbed = Scrubber(max_depth=16).scrub_event({"extra": value})
    assert "[trimmed]" in json.dumps(scrubbed)


def test_remembered_copies_keep_value_types() -> None:
    scrubber = Scrubber()
    first = scrubber.scrub_event({"tags": {"retry": True}})
    second = scrubber.scrub_event({"tags": {"retry": 1}})
    third = scrubber.scrub_event({"tags": {"retry": 1.0}})
    assert (first["tags"]["retry"], second["tags"]["retry"], third["tags"]["retry"]) == (True, 1, 1.0)
    assert type(second["tags"]["retry"]) is int and type(third["tags"]["retry"]) is float
