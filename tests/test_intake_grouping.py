"""Grouping rules, templating and titles."""

from __future__ import annotations

from typing import Any

from launchready.intake.grouping import group_event
from launchready.intake.templating import template_of


def _exception(value: str, frames: list[dict[str, Any]], kind: str = "KeyError") -> dict[str, Any]:
    return {"exception": {"values": [{"type": kind, "value": value, "stacktrace": {"frames": frames}}]}}


def _frame(module: str, function: str, lineno: int, in_app: bool = True) -> dict[str, Any]:
    return {"module": module, "function": function, "lineno": lineno, "in_app": in_app, "filename": f"{module}.py"}


def test_in_app_frames_group_and_line_numbers_do_not_split() -> None:
    before = _exception("'user_42'", [_frame("django.core", "handle", 10, False), _frame("shop.views", "cart", 88)])
    after_deploy = _exception(
        "'user_97'", [_frame("django.core", "handle", 12, False), _frame("shop.views", "cart", 95)]
    )
    other_function = _exception("'user_42'", [_frame("shop.views", "checkout", 88)])
    a, b, c = group_event(before), group_event(after_deploy), group_event(other_function)
    assert a.basis == "stack" and a.fingerprint == b.fingerprint != c.fingerprint
    assert a.culprit == "shop.views:88 in cart"
    assert a.title == "KeyError: 'user_42'"


def test_library_frames_do_not_decide_the_group() -> None:
    one = _exception("x", [_frame("lib.a", "f", 1, False), _frame("shop.views", "cart", 1)])
    two = _exception("x", [_frame("lib.b", "g", 1, False), _frame("shop.views", "cart", 1)])
    assert group_event(one).fingerprint == group_event(two).fingerprint


def test_without_in_app_frames_the_templated_message_groups() -> None:
    one = _exception("user 12 not found (id 9f3c2a1b7e, mail ann@example.com)", [], "LookupError")
    two = _exception("user 4711 not found (id 0badc0ffee, mail bob@example.org)", [], "LookupError")
    three = _exception("user 4711 not found (id 0badc0ffee, mail bob@example.org)", [], "KeyError")
    assert group_event(one).basis == "exception"
    assert group_event(one).fingerprint == group_event(two).fingerprint != group_event(three).fingerprint


def test_fingerprint_wins_and_default_expands() -> None:
    base = _exception("x", [_frame("shop.views", "cart", 1)])
    explicit = group_event({**base, "fingerprint": ["payments"]})
    assert explicit.basis == "fingerprint"
    assert explicit.fingerprint == group_event({**_exception("y", []), "fingerprint": ["payments"]}).fingerprint
    with_default = group_event({**base, "fingerprint": ["{{ default }}", "tenant-a"]})
    assert with_default.components[1:4] == group_event(base).components[:3]
    assert with_default.fingerprint != group_event({**base, "fingerprint": ["{{ default }}", "tenant-b"]}).fingerprint


def test_messages_group_by_template_or_format_string() -> None:
    a = group_event({"message": "Payment 3312 failed after 30s for 'Ann'"})
    b = group_event({"message": "Payment 9 failed after 31s for 'Bob'"})
    assert a.basis == "message" and a.fingerprint == b.fingerprint
    logged_a = group_event(
        {"logentry": {"message": "cart %s is empty", "params": ["x1"], "formatted": "cart x1 is empty"}}
    )
    logged_b = group_event(
        {"logentry": {"message": "cart %s is empty", "params": ["y"], "formatted": "cart y is empty"}}
    )
    assert logged_a.fingerprint == logged_b.fingerprint
    assert logged_a.title == "cart x1 is empty"


def test_templating_placeholders() -> None:
    assert template_of("user 550e8400-e29b-41d4-a716-446655440000 from 10.0.0.1:5432 at 0xdeadbeef") == (
        "user <uuid> from <ip> at <hex>"
    )
    assert template_of('mail ann@example.com said "hi there" in 12.5 ms') == "mail <email> said <quoted> in <num> ms"
    assert template_of("token Zx9fQ2mW8pL3vR7tY1 rejected") == "token <id> rejected"
    assert template_of("GET https://shop.example/items/99 -> 404") == "GET <url> -> <num>"


def test_a_synthetic_exception_is_titled_by_its_message() -> None:
    event = _exception("", [_frame("report", "main", 3)])
    event["exception"]["values"][0]["mechanism"] = {"type": "generic", "synthetic": True}
    event["message"] = "queue is full"
    assert group_event(event).title == "queue is full"
