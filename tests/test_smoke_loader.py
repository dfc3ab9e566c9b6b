"""Flow files: the format parses, and every mistake is a file:line error before any request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import threading
from pathlib import Path

import pytest

from launchready.core.net import NetSettings
from launchready.core.severity import Impact, Severity
from launchready.lab.payments import verify_webhook
from launchready.smoke.errors import SmokeError
from launchready.smoke.jsonpath import MISSING, JsonPathError, parse_json_path
from launchready.smoke.loader import FlowFileError, find_flow_files, load_flow_files, select_flows
from launchready.smoke.model import RequestSpec
from launchready.smoke.plan import execute, plan_smoke
from launchready.smoke.signing import signature_header
from launchready.smoke.template import Scope, TemplateError

GOOD = """\
vars:
  password: "${gen:token}"
flows:
  signup:
    impact: signup
    vars:
      email: "${gen:email:me@example.com}"
    steps:
      - request:
          method: POST
          url: /signup
          form: {email: "${email}", password: "${password}"}
        expect:
          status: [200, 201]
          json:
            $.id: {exists: true}
            $.items: {length: 2}
            $.n: {gt: 0}
          duration_ms: {lt: 2000}
        capture:
          member_id: {json: "$.id"}
      - name: fetch
        request: GET /members/${member_id}
        retry: {attempts: 3, delay_ms: 10}
  uses-signup:
    steps:
      - flow: signup
      - request: GET /x/${member_id}
"""


def write(tmp_path: Path, text: str, name: str = "flows.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(FlowFileError) as caught:
        load_flow_files([path])
    return str(caught.value)


def test_good_file_parses(tmp_path: Path) -> None:
    flows = {f.name: f for f in load_flow_files([write(tmp_path, GOOD)])}
    signup = flows["signup"]
    assert signup.impact is Impact.SIGNUP and signup.severity is Severity.BLOCKER
    assert [v[0] for v in signup.variables] == ["password", "email"]
    first = signup.steps[0]
    assert isinstance(first.spec, RequestSpec) and first.spec.method == "POST"
    assert {a.op for a in first.expect} == {"in", "exists", "length", "gt", "lt"}
    assert signup.steps[1].retry is not None and signup.steps[1].retry.attempts == 3
    # The included flow's steps come first, named after it, remembering where they are written.
    uses = flows["uses-signup"]
    assert [s.name for s in uses.steps][:2] == ["signup: POST /signup", "signup: fetch"]
    assert uses.steps[0].origin == "signup" and uses.steps[2].origin == "uses-signup"
    assert uses.severity is Severity.HIGH and uses.impact is Impact.AVAILABILITY


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("flows:\n  a:\n    steps:\n      - fetch: /x\n", 4, "unknown step type 'fetch'"),
        (
            "flows:\n  a:\n    steps:\n      - request: GET /x\n        expect:\n          json:\n            $.a[: 1\n",
            7,
            "JSON path",
        ),
        (
            "flows:\n  a:\n    steps:\n      - request: GET /x\n      - request: GET /y/${nope}\n",
            5,
            "${nope} is not defined",
        ),
        ("flows:\n  a:\n    steps:\n      - request: GET /x\n        expect: {status: 200\n", 6, "YAML syntax error"),
        ("flows:\n  a:\n    steps:\n      - request: GET /x\n        request: GET /y\n", 5, "duplicate key 'request'"),
        ("flows:\n  a:\n    steps:\n      - flow: b\n", 4, "no flow named 'b'"),
        ("flows:\n  a:\n    steps:\n      - flow: a\n", 4, "includes itself"),
        ("flows:\n  a:\n    steps:\n      - request: GET /${gen:bogus}\n", 4, "unknown generator 'bogus'"),
        (
            "flows:\n  a:\n    steps:\n      - request: GET /x\n        capture:\n          v: {regex: '('}\n",
            6,
            "bad regular expression",
        ),
        (
            "flows:\n  a:\n    steps:\n      - request: GET /x\n        expect:\n          status: {bigger: 1}\n",
            6,
            "unknown comparison 'bigger'",
        ),
        (
            "flows:\n  a:\n    steps:\n      - webhook: {url: /w, scheme: hmac, secret: x, json: {}}\n",
            4,
            "needs header",
        ),
        ("flows:\n  a:\n    impact: vibes\n    steps:\n      - request: GET /x\n", 3, "impact 'vibes'"),
    ],
)
def test_bad_files_name_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int, words: str
) -> None:
    monkeypatch.chdir(tmp_path)  # files are named relative to the working directory
    message = load_error(tmp_path, text)
    assert message.startswith(f"flows.yaml:{line}: "), message
    assert words in message


STEPS = "flows:\n  a:\n    steps:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A problem deep in block-style YAML is placed on its own key's line.
        (
            STEPS + "      - request: GET /x\n        expect:\n          json:\n            $.a:\n"
            "              length: 2\n              exists: maybe\n",
            "flows.yaml:9: expect.json.$.a.exists: expected true or false, got 'maybe'",
        ),
        (
            STEPS + "      - request: GET /x\n        retry:\n          attempts: 0\n",
            "flows.yaml:6: retry.attempts: expected a whole number from 1 to 60, got 0",
        ),
        # Strict types: YAML's string "5" is not a number.
        (
            STEPS + "      - email:\n          to: a@example.com\n          timeout: '5'\n",
            "flows.yaml:6: timeout: expected a number from 0.1 to 600, got '5'",
        ),
        (STEPS + "      - request: GET /x\n        retry:\n", "flows.yaml:5: retry: expected a mapping, got null"),
        (
            STEPS + "      - request:\n          url: /x\n          json: {a: 1}\n          form: {a: 1}\n",
            "flows.yaml:7: give one of json, form or body, not json and form",
        ),
        (
            STEPS + "      - request:\n          url: /x\n          timeout: 3\n",
            "flows.yaml:6: unknown key 'timeout' in request "
            "(expected method, url, headers, query, json, form, body, follow_redirects)",
        ),
        (
            STEPS + "      - email: {to: a@example.com}\n        expect:\n          status: 200\n",
            "flows.yaml:6: unknown key 'status' in expect (expected subject, body, headers)",
        ),
        (
            STEPS + "      - request: GET /x\n        capture:\n          v: {header: X-Id, cookie: sid}\n",
            "flows.yaml:6: capture.v: one source only, got header and cookie",
        ),
        (
            "flows:\n  a:\n    steps: []\n",
            "flows.yaml:3: steps: expected a list of at least one step, got an empty list",
        ),
        (
            "flows:\n  a:\n    severity: huge\n    steps:\n      - request: GET /\n",
            "flows.yaml:3: severity 'huge': expected one of blocker, high, medium, low, info",
        ),
    ],
)
def test_schema_errors_name_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_error(tmp_path, text) == expected


def test_a_webhook_secret_written_as_a_value_is_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = STEPS + "      - webhook:\n          url: /hook\n          secret: 424242424242\n          json: {}\n"
    message = load_error(tmp_path, text)
    assert message.startswith("flows.yaml:6: secret: expected the signing secret") and "4242" not in message


def test_null_as_an_expected_value_is_a_comparison_not_a_missing_one(tmp_path: Path) -> None:
    text = STEPS + "      - request: GET /x\n        expect:\n          body:\n          headers: {X-Gone: }\n"
    [flow] = load_flow_files([write(tmp_path, text)])
    assert [(a.subject, a.argument, a.op, a.expected) for a in flow.steps[0].expect] == [
        ("body", None, "contains", None),
        ("header", "X-Gone", "equals", None),
    ]


def test_capture_defined_in_a_later_step_is_not_yet_defined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "flows:\n  a:\n    steps:\n      - request: GET /${v}\n      - request: GET /x\n        capture:\n          v: {status: true}\n"
    assert "flows.yaml:4: ${v} is not defined" in load_error(tmp_path, text)


def test_duplicate_flow_names_across_files(tmp_path: Path) -> None:
    one = write(tmp_path, "flows:\n  a:\n    steps:\n      - request: GET /\n", "one.yaml")
    two = write(tmp_path, "\nflows:\n  a:\n    steps:\n      - request: GET /\n", "two.yaml")
    with pytest.raises(FlowFileError, match=r"two.yaml:3: flow 'a' is already defined at .*one.yaml:2"):
        load_flow_files([one, two])


def test_globs_and_selection(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    paths = find_flow_files([str(tmp_path / "*.yaml")])
    flows = load_flow_files(paths)
    assert [f.name for f in select_flows(flows, ["uses-signup"])] == ["uses-signup"]
    with pytest.raises(SmokeError, match="--flow nope: no such flow"):
        select_flows(flows, ["nope"])
    with pytest.raises(SmokeError, match="matches no flow file"):
        find_flow_files([str(tmp_path / "missing/*.yaml")])


class _CountingServer:
    """A loopback TCP listener that only counts connections: proof that nothing was sent."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_missing_env_and_mailbox_fail_before_any_request(tmp_path: Path) -> None:
    from launchready.config.model import Config

    flows = write(
        tmp_path,
        "flows:\n  a:\n    steps:\n      - request: GET /ok\n      - request:\n          url: /x\n          headers: {Authorization: 'Bearer ${env:SMOKE_TOKEN}'}\n"
        "  b:\n    steps:\n      - email: {to: a@example.com}\n",
    )
    server = _CountingServer()
    try:
        config = Config.model_validate(
            {
                "environments": {"production": {"base_url": f"http://127.0.0.1:{server.port}"}},
                "smoke": {"files": [str(flows)]},
            }
        )
        with pytest.raises(FlowFileError) as caught:
            plan_smoke(config, "production", environ={})
        assert "flows.yaml:7: ${env:SMOKE_TOKEN} is not set in the environment" in str(caught.value)
        assert any("email steps need a mailbox" in str(p) for p in caught.value.problems)
        # With the secret set and only flow a, the plan is fine and the flow does run.
        plan = plan_smoke(config, "production", flow_names=["a"], environ={"SMOKE_TOKEN": "tok-123456789"})
        assert server.connections == 0
        asyncio.run(execute(plan, NetSettings(timeout=1)))
        assert server.connections >= 1
    finally:
        server.stop()


def test_json_path_subset() -> None:
    doc = {"a": {"b": [1, {"c": "x"}]}, "odd key": 3}
    assert parse_json_path("$.a.b[1].c").find(doc) == "x"
    assert parse_json_path("$.a.b[-1]['c']").find(doc) == "x"
    assert parse_json_path("$['odd key']").find(doc) == 3
    assert parse_json_path("$").find(doc) is doc
    assert parse_json_path("$.a.zz").find(doc) is MISSING
    assert parse_json_path("$.a.b[5]").find(doc) is MISSING
    for bad in ("a.b", "$.", "$[x]", "$..a", "$.a[*]"):
        with pytest.raises(JsonPathError):
            parse_json_path(bad)


def test_templates_keep_types_and_register_secrets() -> None:
    seen: list[str] = []
    scope = Scope(variables={"n": 5, "s": "x"}, env={"K": "secret-value"}, on_secret=seen.append)
    assert scope.render("${n}") == 5
    assert scope.render("id-${n}") == "id-5"
    assert scope.render({"k": "${env:K}", "l": ["$${literal}"]}) == {"k": "secret-value", "l": ["${literal}"]}
    assert seen == ["secret-value"] and scope.secrets == {"secret-value"}
    first, second = scope.render("${gen:email:me@example.com}"), scope.render("${gen:email:me@example.com}")
    assert first != second and first.startswith("me+smoke-") and first.endswith("@example.com")
    with pytest.raises(TemplateError):
        scope.render("${undefined}")


def test_signatures() -> None:
    body = b'{"id":"evt_1"}'
    name, value = signature_header("stripe", "whsec_test", body, now=1_700_000_000)
    assert name == "Stripe-Signature"
    assert verify_webhook("whsec_test", body, value, now=1_700_000_010).valid
    assert not verify_webhook("other", body, value, now=1_700_000_010).valid
    name, value = signature_header("github", "s3cret", b"Hello, World!")
    # GitHub's documented example for secret "It's a Secret to Everybody" is computed the same way.
    assert name == "X-Hub-Signature-256" and value.startswith("sha256=") and len(value) == 71
    ref = signature_header("github", "It's a Secret to Everybody", b"Hello, World!")[1]
    assert ref == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    expected = hmac.new(b"k", b"x", hashlib.sha256).hexdigest()
    assert signature_header("hmac", "k", b"x", header="X-Signature") == ("X-Signature", expected)
