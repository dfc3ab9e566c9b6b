"""Gatus-style conditions, durations and the cron evaluator: pure units (no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from launchready.monitor.checks.conditions import ConditionError, Observation, evaluate, parse_condition
from launchready.monitor.cron import CronError, parse_cron
from launchready.monitor.durations import format_duration, parse_duration
from launchready.monitor.scheduler.state import advance
from launchready.monitor.store.repository import CheckState


def _seen(**kwargs: object) -> Observation:
    values: dict[str, object] = {"connected": True}
    values.update(kwargs)
    return Observation(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "placeholder", "op", "expected"),
    [
        ("[STATUS] == 200", "STATUS", "==", 200.0),
        ("[status]!=503", "STATUS", "!=", 503.0),
        ("[RESPONSE_TIME] < 300", "RESPONSE_TIME", "<", 300.0),
        ("[RESPONSE_TIME] <= 1.5s", "RESPONSE_TIME", "<=", 1500.0),
        ("[CERTIFICATE_EXPIRATION] > 336h", "CERTIFICATE_EXPIRATION", ">", 336 * 3600.0),
        ("[CERTIFICATE_EXPIRATION] >= 14d", "CERTIFICATE_EXPIRATION", ">=", 14 * 86400.0),
        ("[BODY].status == ok", "BODY", "==", "ok"),
        ('[BODY].data[0].name == "a b"', "BODY", "==", "a b"),
        ("[CONNECTED] == true", "CONNECTED", "==", True),
    ],
)
def test_parse(text: str, placeholder: str, op: str, expected: object) -> None:
    condition = parse_condition(text)
    assert (condition.placeholder, condition.op, condition.expected) == (placeholder, op, expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("STATUS == 200", "expected '[PLACEHOLDER] OPERATOR VALUE'"),
        ("[STATUS] = 200", "expected '[PLACEHOLDER] OPERATOR VALUE'"),
        ("[STATUS] == ok", "expected a 3-digit HTTP status, got 'ok'"),
        ("[LATENCY] < 3", "unknown placeholder [LATENCY]"),
        ("[STATUS].x == 200", "only [BODY] takes a path"),
        ("[BODY].a..b == 1", "JSON path"),
        ("[CERTIFICATE_EXPIRATION] > 336", "with a unit"),
        ("[RESPONSE_TIME] < soon", "expected milliseconds or a duration"),
        ("[CONNECTED] < true", "[CONNECTED] == true"),
        ("[STATUS] ==", "nothing to compare with after '=='"),
    ],
)
def test_parse_errors_are_one_line_and_quote_the_condition(text: str, says: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert repr(text) in message


def test_evaluate_reports_the_first_failed_condition() -> None:
    conditions = [parse_condition(t) for t in ("[STATUS] == 200", "[RESPONSE_TIME] < 300", "[BODY].status == ok")]
    body = json.dumps({"status": "degraded"}).encode()
    assert evaluate(conditions, _seen(status=200, response_time_ms=20.0, body=b'{"status": "ok"}')) is None
    assert evaluate(conditions, _seen(status=503, response_time_ms=20.0, body=body)) == "[STATUS] == 200: got 503"
    assert (
        evaluate(conditions, _seen(status=200, response_time_ms=412.0, body=body)) == "[RESPONSE_TIME] < 300: got 412ms"
    )
    assert (
        evaluate(conditions, _seen(status=200, response_time_ms=1.0, body=body)) == "[BODY].status == ok: got degraded"
    )
    assert evaluate(conditions, _seen(status=200, response_time_ms=1.0, body=b"<html>")) == (
        "[BODY].status == ok: the body is not JSON"
    )
    assert evaluate(conditions, _seen(status=200, response_time_ms=1.0, body=b"{}")) == (
        "[BODY].status == ok: the body has no $.status"
    )


def test_body_numbers_compare_as_numbers_and_text_as_text() -> None:
    assert evaluate([parse_condition("[BODY].queue < 10")], _seen(body=b'{"queue": 9}')) is None
    assert evaluate([parse_condition("[BODY].queue < 10")], _seen(body=b'{"queue": 12}')) == "[BODY].queue < 10: got 12"
    assert evaluate([parse_condition("[BODY].ok == true")], _seen(body=b'{"ok": true}')) is None
    assert evaluate([parse_condition("[BODY] == pong")], _seen(body=b"pong\n")) is None
    assert "cannot order" in (evaluate([parse_condition("[BODY].v > 3")], _seen(body=b'{"v": "x"}')) or "")


def test_certificate_expiration_shows_what_was_left() -> None:
    condition = parse_condition("[CERTIFICATE_EXPIRATION] > 336h")
    assert evaluate([condition], _seen(certificate_expires_in_s=400 * 3600.0)) is None
    assert (
        evaluate([condition], _seen(certificate_expires_in_s=48 * 3600.0)) == "[CERTIFICATE_EXPIRATION] > 336h: got 2d"
    )
    assert evaluate([condition], _seen(certificate_expires_in_s=None)) == (
        "[CERTIFICATE_EXPIRATION] > 336h: no certificate expiration was observed"
    )


@given(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), st.integers(100, 599), st.integers(100, 599))
def test_status_comparisons_match_python(op: str, expected: int, actual: int) -> None:
    held = evaluate([parse_condition(f"[STATUS] {op} {expected}")], _seen(status=actual)) is None
    assert held == eval(f"{actual} {op} {expected}")  # noqa: S307 - integers and an operator from the list


@given(st.text(max_size=40))
def test_parser_never_raises_anything_but_condition_error(text: str) -> None:
    try:
        parse_condition(text)
    except ConditionError as exc:
        assert "\n" not in str(exc).replace(repr(text), "")


@given(st.integers(0, 10**7))
def test_durations_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "1h-2m", "-3", "1..5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


def test_cron_next_in_a_time_zone_across_dst() -> None:
    nightly = parse_cron("30 2 * * *", "Europe/Paris")
    # 2027-03-28: clocks go from 02:00 to 03:00 in Paris, 02:30 does not exist that day.
    assert nightly.next_after(_utc(2027, 3, 26, 12, 0)) == _utc(2027, 3, 27, 1, 30)  # CET, UTC+1
    assert nightly.next_after(_utc(2027, 3, 27, 2, 0)) == _utc(2027, 3, 29, 0, 30)  # skipped day, then CEST
    hourly = parse_cron("@hourly")
    assert hourly.next_after(_utc(2027, 1, 1, 10, 0)) == _utc(2027, 1, 1, 11, 0)


def test_cron_fields_lists_ranges_steps_and_names() -> None:
    schedule = parse_cron("*/15 9-17 * jan-mar mon-fri", "UTC")
    assert schedule.minutes == frozenset({0, 15, 30, 45})
    assert schedule.hours == frozenset(range(9, 18))
    assert schedule.months == frozenset({1, 2, 3})
    assert schedule.weekdays == frozenset({1, 2, 3, 4, 5})
    # Saturday 2027-01-02 -> Monday 2027-01-04 09:00.
    assert schedule.next_after(_utc(2027, 1, 2, 12, 0)) == _utc(2027, 1, 4, 9, 0)
    # Day of month OR day of week when both are restricted (Vixie cron).
    either = parse_cron("0 0 13 * 5")
    assert either.next_after(_utc(2027, 1, 1, 0, 0)) == _utc(2027, 1, 8, 0, 0)  # Friday 8th before the 13th


@pytest.mark.parametrize(
    ("expression", "tz", "says"),
    [
        ("* * * *", "UTC", "expected 5 fields"),
        ("61 * * * *", "UTC", "minute: 61 is not from 0 to 59"),
        ("0 0 30 2 *", "UTC", "never fires"),
        ("0 0 * * *", "Mars/Olympus", "unknown time zone"),
        ("*/0 * * * *", "UTC", "bad step"),
        ("5-1 * * * *", "UTC", "runs backwards"),
    ],
)
def test_cron_errors(expression: str, tz: str, says: str) -> None:
    with pytest.raises(CronError, match=says.replace("(", r"\(")):
        parse_cron(expression, tz)


def test_state_machine_thresholds_and_flips() -> None:
    state = CheckState("home")
    flips = []
    for at, ok in enumerate([True, False, True, False, False, False, True, True]):
        state, transition = advance(
            state, ok=ok, at=float(at), reason=None if ok else "down", failures_before_down=2, successes_before_up=2
        )
        if transition is not None:
            flips.append((at, transition.old_state, transition.new_state, transition.alerts))
    # new -> up needs 2 passes; one failure between passes resets the count.
    assert flips == [(4, "new", "down", True), (7, "down", "up", True)]
    state, transition = advance(
        CheckState("x"), ok=True, at=0.0, reason=None, failures_before_down=2, successes_before_up=1
    )
    assert transition is not None and (transition.new_state, transition.alerts) == ("up", False)
    paused = CheckState("p", "paused")
    assert advance(paused, ok=False, at=1.0, reason="x", failures_before_down=1, successes_before_up=1) == (
        paused,
        None,
    )
