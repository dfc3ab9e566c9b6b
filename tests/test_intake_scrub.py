"""The data scrubber: no secret in an event reaches the store."""

from __future__ import annotations

import json

import pytest

from launchready.intake.scrub import FILTERED, TRIMMED, Scrubber, luhn_valid, plain_alphabet_is_safe, scrub_text
from launchready.secrets.detector import Detector

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


def test_timestamps_and_numbers_pass_untouched_but_card_numbers_in_them_do_not() -> None:
    scrubber = Scrubber()
    for plain in ("2026-11-30T08:38:25.268712Z", "12:30:00 +02:00", "1234567890123", "-3.5"):
        assert scrubber.scrub_string(plain) == plain
    assert scrubber.scrub_string("4111 1111 1111 1111") == FILTERED
    assert scrubber.scrub_string("2026-11-30T08:38:25Z 4111-1111-1111-1111") == f"2026-11-30T08:38:25Z {FILTERED}"
    event = scrubber.scrub_event(
        {"breadcrumbs": {"values": [{"timestamp": "2026-11-30T08:38:25Z", "data": "4242424242424242"}]}}
    )
    assert event["breadcrumbs"]["values"][0] == {"timestamp": "2026-11-30T08:38:25Z", "data": FILTERED}


def test_the_plain_alphabet_spells_no_keyword() -> None:
    # The shortcut above skips the secret scanner's keyword prefilter: sound only while no keyword
    # can be written with digits, separators, T and Z alone. A rule that adds such a keyword turns
    # the shortcut off instead of slipping past it.
    assert plain_alphabet_is_safe(Detector().prefilter.keywords)
    assert not plain_alphabet_is_safe(("sk_live_", "12:"))
    assert not plain_alphabet_is_safe(("t-z",))


def test_what_a_sensitive_key_hides_and_what_it_keeps() -> None:
    scrubbed = Scrubber().scrub_event(
        {
            "extra": {
                "password": "",  # nothing to hide
                "token": [],
                "session": {},
                "api_key": ["k1"],
                "auth": {"user": "ann"},
                "csrf": [["a", "b"]],
                "pwd_length": 12,  # numbers are not credentials
                "retry": True,
                "note": None,
            }
        }
    )
    assert scrubbed["extra"] == {
        "password": "",
        "token": [],
        "session": {},
        "api_key": FILTERED,
        "auth": FILTERED,
        "csrf": FILTERED,
        "pwd_length": 12,
        "retry": True,
        "note": None,
    }


def test_strings_are_cut_before_they_are_scrubbed_or_remembered() -> None:
    scrubber = Scrubber(string_max_chars=10)
    assert scrubber.scrub_event({"message": "abcdefghijklmnop"})["message"] == "abcdefghij…"
    assert scrubber.scrub_event({"extra": {"a": ["abcdefghijklmnop"]}})["extra"] == {"a": ["abcdefghij…"]}
    long_line = "x" * 600 + f" {STRIPE_KEY}"  # longer than any remembered string: scrubbed each time
    assert STRIPE_KEY not in json.dumps(Scrubber().scrub_event({"extra": {"lines": [long_line, long_line]}}))


def test_lists_and_pairs_at_the_depth_limit_are_trimmed() -> None:
    scrubber = Scrubber(max_depth=3)
    scrubbed = scrubber.scrub_event({"a": {"b": ["x", {"c": "y"}], "h": [["Authorization", "Bearer abcdefghijk"]]}})
    assert scrubbed == {"a": {"b": ["x", TRIMMED], "h": [["Authorization", FILTERED]]}}
    assert scrubber.scrub_event({"a": {"b": {"c": ["deep"]}}}) == {"a": {"b": {"c": TRIMMED}}}


def test_secrets_across_a_frames_source_lines_are_masked_line_by_line() -> None:
    body = [
        "MIIEowIBAAKCAQEAx7Yqk2Lm9ZtR4vWb8NcQ" + "1pXs5Hd3Jf6Ke0Ug7Ti2Oy4Pa9Bw",
        "Vn3Cm8Xz1Lq5Rt7Yu0Io2Pa4Sd6F" + "g8Hj1Kl3Zx",
    ]
    aws_secret = "q8Vn3Cm8Xz1Lq5Rt7Yu0" + "Io2Pa4Sd6Fg8Hj1Kl3Zx"
    frame = {
        "function": "boot",
        "pre_context": [
            'KEY = """-----BEGIN RSA ' + "PRIVATE KEY-----",
            *body,
            "-----END RSA " + 'PRIVATE KEY-----"""',
        ],
        "context_line": 'creds = ("AKIA' + 'Q3EGRT5KXMPLW7ZB",',
        "post_context": [f'         "{aws_secret}")', "    ok = 1  # an ordinary line"],
    }
    scrubbed = Scrubber().scrub_event({"exception": {"values": [{"stacktrace": {"frames": [frame]}}]}})
    [out] = scrubbed["exception"]["values"][0]["stacktrace"]["frames"]
    assert out["pre_context"][1:3] == [FILTERED, FILTERED]
    assert out["post_context"] == [f'         "{FILTERED}")', "    ok = 1  # an ordinary line"]
    assert out["function"] == "boot" and frame["pre_context"][1] == body[0]  # the input is not changed
    text = json.dumps(scrubbed)
    assert all(secret not in text for secret in (*body, aws_secret))


def test_the_repository_allow_marker_does_not_let_a_secret_into_an_event() -> None:
    line = f'client = PaymentClient("{STRIPE_KEY}")  # launchready:allow'
    assert Scrubber().scrub_string(line) == f'client = PaymentClient("{FILTERED}")  # launchready:allow'


def test_frames_with_odd_source_context_are_scrubbed_without_error() -> None:
    odd = {"context_line": None, "pre_context": "not a list", "post_context": [1, None, STRIPE_KEY]}
    out = Scrubber().scrub_event({"frames": [odd]})["frames"][0]
    assert out["post_context"] == [1, None, FILTERED]
