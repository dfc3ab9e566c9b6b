"""Run flows: independent flows in parallel, steps in order, stop a flow at its first failure.

A step renders its templates, sends its request (or waits for its email), checks its ``expect``
and then its captures; ``retry`` repeats the step (bounded) until it passes. Everything that
leaves the runner goes through the run's :class:`Masker`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin

import aiohttp
import aiohttp.abc
from yarl import URL

from launchready.smoke.http import FlowHttp, Response, form_body
from launchready.smoke.jsonpath import MISSING
from launchready.smoke.loader import FlowFileError, FlowProblem, _all_templates
from launchready.smoke.mail import MailCallback, MailError, MailMessage, MailSource, MailWait, wait_for_mail
from launchready.smoke.model import Assertion, Capture, EmailSpec, ErrorSpec, Flow, RequestSpec, Step, WebhookSpec
from launchready.smoke.results import FlowResult, SmokeRun, StepResult
from launchready.smoke.secrets import Masker
from launchready.smoke.signing import signature_header
from launchready.smoke.template import Scope, TemplateError, references

StepCallback = Callable[[str, StepResult], None]
# How often an error step asks the monitor whether the triggered error arrived.
_ERROR_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class SmokeOptions:
    concurrency: int = 4
    flow_timeout: float = 60.0
    # Every email step waits at least this long (the mail test's own wait), whatever its timeout says.
    mail_wait: float | None = None


@dataclass
class _Observed:
    status: int | None
    headers: tuple[tuple[str, str], ...]
    text: str
    duration_ms: float
    cookies: tuple[tuple[str, str], ...] = ()
    subject: str | None = None

    def header(self, name: str) -> Any:
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return MISSING

    def cookie(self, name: str) -> Any:
        for key, value in self.cookies:
            if key == name:
                return value
        return MISSING

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise _StepFailure("the body is not JSON") from None
        except RecursionError:  # a hostile body: 200,000 "[" exhaust the decoder's stack
            raise _StepFailure("the body's JSON is nested too deeply to read") from None


class _StepFailure(Exception):
    pass


@dataclass(frozen=True)
class FlowSession:
    """A flow run and what it left behind: its variables (vars and captures) and its cookie jar.

    For callers that reuse a flow's login (the load test): they must mask every value they print.
    """

    result: FlowResult
    variables: Mapping[str, Any]
    cookie_jar: aiohttp.abc.AbstractCookieJar | None

    def cookies_for(self, url: str) -> tuple[tuple[str, str], ...]:
        """The cookies a browser would send to ``url`` from this jar (domain, path and Secure rules)."""
        if self.cookie_jar is None:
            return ()
        return tuple((c.key, c.value) for c in self.cookie_jar.filter_cookies(URL(url)).values())


def _add_secret(masker: Masker, value: Any) -> None:
    """Every scalar in a secret variable's value (a mapping or list too) masked from now on."""
    if isinstance(value, dict):
        for item in value.values():
            _add_secret(masker, item)
    elif isinstance(value, list):
        for item in value:
            _add_secret(masker, item)
    elif value is not None and not isinstance(value, bool):
        masker.add(str(value))


def prepare(flows: Sequence[Flow], env: Mapping[str, str], *, has_mailbox: bool) -> Masker:
    """Checks that need the run's settings (before any request) and a masker knowing every secret."""
    problems: list[FlowProblem] = []
    masker = Masker()
    for flow in flows:
        if flow.uses_email and not has_mailbox:
            step = next(s for s in flow.steps if s.kind == "email")
            problems.append(
                FlowProblem(step.where, "email steps need a mailbox: add [smoke.mailbox] to launchready.toml")
            )
        for template, where in _all_templates(flow):
            for ref in references(template):
                if ref.kind != "env":
                    continue
                if ref.name not in env:
                    problems.append(FlowProblem(where, f"${{env:{ref.name}}} is not set in the environment"))
                else:
                    masker.add(env[ref.name])
    if problems:
        raise FlowFileError(problems)
    return masker


async def run_flows(
    flows: Sequence[Flow],
    *,
    environment: str,
    base_url: str,
    http: FlowHttp,
    env: Mapping[str, str],
    masker: Masker,
    mail: MailSource | None = None,
    options: SmokeOptions = SmokeOptions(),
    on_step: StepCallback | None = None,
    on_mail: MailCallback | None = None,
) -> SmokeRun:
    started = datetime.now(UTC)
    limit = asyncio.Semaphore(options.concurrency)

    async def one(flow: Flow) -> FlowResult:
        async with limit:
            run = _FlowRun(
                flow, base_url, http, env, masker, mail, on_step, on_mail=on_mail, mail_wait=options.mail_wait
            )
            return await run.run(options.flow_timeout)

    results = await asyncio.gather(*(one(f) for f in flows))
    return SmokeRun(environment, masker.text(base_url), started, datetime.now(UTC), tuple(results))


async def run_flow_session(
    flow: Flow,
    *,
    base_url: str,
    http: FlowHttp,
    env: Mapping[str, str],
    masker: Masker,
    mail: MailSource | None = None,
    options: SmokeOptions = SmokeOptions(),
) -> FlowSession:
    """Run one flow and keep its variables and cookie jar (e.g. a login reused by the load test)."""
    run = _FlowRun(flow, base_url, http, env, masker, mail, None)
    result = await run.run(options.flow_timeout)
    return FlowSession(result, dict(run.scope.variables), run.cookie_jar)


class _FlowRun:
    def __init__(
        self,
        flow: Flow,
        base_url: str,
        http: FlowHttp,
        env: Mapping[str, str],
        masker: Masker,
        mail: MailSource | None,
        on_step: StepCallback | None,
        *,
        on_mail: MailCallback | None = None,
        mail_wait: float | None = None,
    ) -> None:
        self.flow = flow
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.http = http
        self.masker = masker
        self.mail = mail
        self.on_step = on_step
        self.on_mail = on_mail
        self.mail_wait = mail_wait
        self.current_step: Step | None = None
        # The last request sent (perf_counter at its start, "METHOD URL"): what an email step waits after.
        self.last_request: tuple[float, str] | None = None
        self.scope = Scope(variables={"base_url": base_url.rstrip("/")}, env=env, on_secret=masker.add)
        self.steps: list[StepResult] = []
        self.cookie_jar: aiohttp.abc.AbstractCookieJar | None = None

    async def run(self, timeout: float) -> FlowResult:
        started = time.perf_counter()
        error: str | None = None
        try:
            async with asyncio.timeout(timeout):
                for var, template, where in self.flow.variables:
                    try:
                        self.scope.variables[var] = self.scope.render(template)
                    except TemplateError as exc:
                        raise _FlowError(f"{where}: {exc}") from None
                    if var in self.flow.secret_vars:
                        _add_secret(self.masker, self.scope.variables[var])
                async with self.http.session() as session:
                    self.cookie_jar = session.cookie_jar
                    for step in self.flow.steps:
                        self.current_step = step
                        result = await self._step(step, session)
                        self.steps.append(result)
                        if self.on_step is not None:
                            self.on_step(self.flow.name, result)
                        if not result.passed:
                            break
        except TimeoutError:
            error = f"the flow did not finish within {timeout:g}s"
        except _FlowError as exc:
            error = self.masker.text(str(exc))
        ran = len(self.steps)
        skipped = tuple(
            StepResult(s.name, s.kind, str(s.where), False, 0.0, "", skipped=True, origin=s.origin)
            for s in self.flow.steps[ran:]
        )
        passed = error is None and all(s.passed for s in self.steps) and ran == len(self.flow.steps)
        return FlowResult(
            name=self.flow.name,
            where=str(self.flow.where),
            severity=self.flow.severity,
            impact=self.flow.impact,
            passed=passed,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            steps=tuple(self.steps) + skipped,
            error=error,
            description=self.flow.description,
        )

    # -- one step ---------------------------------------------------------------------------------

    async def _step(self, step: Step, session: aiohttp.ClientSession) -> StepResult:
        attempts = step.retry.attempts if step.retry else 1
        started = time.perf_counter()
        result: StepResult | None = None
        for attempt in range(1, attempts + 1):
            result = await self._attempt(step, session, attempt)
            if result.passed:
                break
            if attempt < attempts and step.retry is not None:
                await asyncio.sleep(step.retry.delay)
        assert result is not None
        total = round((time.perf_counter() - started) * 1000, 1)
        return StepResult(**{**result.__dict__, "duration_ms": total})

    async def _attempt(self, step: Step, session: aiohttp.ClientSession, attempt: int) -> StepResult:
        mask = self.masker.text
        label = step.name
        try:
            if isinstance(step.spec, EmailSpec):
                observed, request, detail = await self._email(step.spec)
            elif isinstance(step.spec, ErrorSpec):
                observed, request, detail = await self._error(step.spec, session)
            else:
                observed, request, detail = await self._http(step.spec, session)
        except (TemplateError, _StepFailure, MailError) as exc:
            return StepResult(
                mask(label),
                step.kind,
                str(step.where),
                False,
                0.0,
                "",
                attempts=attempt,
                failure=mask(str(exc)),
                origin=step.origin,
            )
        failure = None
        if observed.status is None and step.kind != "email":
            failure = f"no response: {observed.text}"
        else:
            try:
                failure = self._check(step.expect, observed)
                if failure is None:
                    self._capture(step.captures, observed)
            except (_StepFailure, TemplateError) as exc:
                failure = str(exc)
        passed = failure is None
        return StepResult(
            name=mask(label),
            kind=step.kind,
            where=str(step.where),
            passed=passed,
            duration_ms=observed.duration_ms,
            request=mask(request),
            status=observed.status if step.kind != "email" else None,
            attempts=attempt,
            failure=None if passed else mask(str(failure)),
            request_detail=() if passed else tuple(mask(d) for d in detail),
            response_excerpt=None if passed else self._excerpt(observed),
            origin=step.origin,
        )

    def _excerpt(self, observed: _Observed) -> str:
        parts = []
        if observed.status is not None:
            parts.append(f"status {observed.status}")
        location = observed.header("location")
        if location is not MISSING:
            parts.append(f"Location: {self.masker.header('location', location)}")
        if observed.text:
            parts.append(self.masker.excerpt(observed.text))
        return "; ".join(parts)

    def _url(self, template: Any) -> str:
        url = self.scope.text(template)
        return urljoin(self.base_url, url.lstrip("/")) if not re.match(r"^https?://", url, re.I) else url

    async def _http(
        self, spec: RequestSpec | WebhookSpec, session: aiohttp.ClientSession
    ) -> tuple[_Observed, str, list[str]]:
        url = self._url(spec.url)
        headers = {k: self.scope.text(v) for k, v in spec.headers}
        data: bytes | dict[str, str] | None = None
        method = "POST"
        if isinstance(spec, RequestSpec):
            method = spec.method
            if spec.query:
                query = urlencode([(k, self.scope.text(v)) for k, v in spec.query])
                url += ("&" if "?" in url else "?") + query
            if spec.has_json:
                data = json.dumps(self.scope.render(spec.json)).encode()
                headers.setdefault("Content-Type", "application/json")
            elif spec.form is not None:
                data = form_body({k: self.scope.text(v) for k, v in spec.form})
            elif spec.body is not None:
                data = self.scope.text(spec.body).encode()
            follow = spec.follow_redirects
        else:
            if spec.has_json:
                data = json.dumps(self.scope.render(spec.json), separators=(",", ":")).encode()
                headers.setdefault("Content-Type", "application/json")
            else:
                data = self.scope.text(spec.body).encode()
            secret = self.scope.text(spec.secret)
            self.masker.add(secret)
            name, value = signature_header(spec.scheme, secret, data, header=spec.header)
            headers[name] = value
            follow = False
        self.last_request = (time.perf_counter(), self.masker.text(f"{method} {url}"))
        response = await self.http.send(session, method, url, headers=headers, data=data, follow_redirects=follow)
        detail = [f"{method} {url}"]
        detail += [f"{k}: {self.masker.header(k, v)}" for k, v in headers.items()]
        if isinstance(data, bytes) and data:
            detail.append(f"body: {self.masker.excerpt(data, 200)}")
        elif isinstance(data, dict):
            detail.append(
                "form: "
                + ", ".join(f"{k}={self.masker.header(k, v) if 'pass' in k.lower() else v}" for k, v in data.items())
            )
        return _observed(response), f"{method} {url}", detail

    async def _error_groups(
        self, session: aiohttp.ClientSession, api: str, headers: Mapping[str, str], title: str
    ) -> dict[Any, dict[str, Any]]:
        """The monitor's groups whose title contains ``title``, by id."""
        response = await self.http.send(session, "GET", api, headers=dict(headers), data=None, follow_redirects=False)
        if response.status is None:
            raise _StepFailure(f"the monitor's error API did not answer: {response.error or 'no response'}")
        if response.status != 200:
            raise _StepFailure(
                f"the monitor's error API answered {response.status} (check the step's monitor: URL and token:)"
            )
        try:
            groups = json.loads(response.body)
        except (ValueError, RecursionError):
            raise _StepFailure("the monitor's error API did not answer JSON") from None
        if not isinstance(groups, list):
            raise _StepFailure("the monitor's error API did not answer a list of groups")
        return {
            g.get("id"): g
            for g in groups
            if isinstance(g, dict) and title in str(g.get("title", "")) and isinstance(g.get("count"), int)
        }

    async def _error(self, spec: ErrorSpec, session: aiohttp.ClientSession) -> tuple[_Observed, str, list[str]]:
        token = self.scope.text(spec.token)
        self.masker.add(token)
        title = self.scope.text(spec.title)
        monitor = self.scope.text(spec.monitor).rstrip("/")
        api = f"{monitor}/api/v1/errors?" + urlencode({"q": title, "sort": "last_seen", "limit": "100"})
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        started = time.perf_counter()
        # Counts before the trigger: an event counts as arrived when a group counts one more, which
        # needs no agreement between this machine's clock and the monitor's.
        before = {gid: g["count"] for gid, g in (await self._error_groups(session, api, headers, title)).items()}
        triggered, trigger_request, detail = await self._http(spec.trigger, session)
        if triggered.status is None:
            raise _StepFailure(f"the trigger {trigger_request} got no response: {triggered.text}")
        what = f"{trigger_request} (answered {triggered.status}), then an error {title!r} at {monitor}"
        deadline = started + spec.timeout
        while True:
            for gid, group in (await self._error_groups(session, api, headers, title)).items():
                if group["count"] > before.get(gid, 0):
                    elapsed = round((time.perf_counter() - started) * 1000, 1)
                    return _Observed(200, (), json.dumps(group), elapsed), what, detail
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise _StepFailure(
                    f"no error with a title containing {title!r} arrived at {monitor} within {spec.timeout:g}s after "
                    f"{trigger_request} answered {triggered.status}: the app's SDK did not report it, or its DSN "
                    "names another project or service"
                )
            await asyncio.sleep(min(_ERROR_POLL_SECONDS, remaining))

    async def _email(self, spec: EmailSpec) -> tuple[_Observed, str, list[str]]:
        if self.mail is None:
            raise _StepFailure("no mailbox configured ([smoke.mailbox])")
        to = self.scope.text(spec.to)
        subject = None if spec.subject is None else self.scope.text(spec.subject)
        timeout = spec.timeout if self.mail_wait is None else max(spec.timeout, self.mail_wait)
        started = time.perf_counter()
        message = await wait_for_mail(self.mail, to, subject, timeout)
        found_at = time.perf_counter()
        elapsed = round((found_at - started) * 1000, 1)
        if self.on_mail is not None and self.current_step is not None:
            step = self.current_step
            self.on_mail(
                MailWait(
                    flow=self.flow.name,
                    origin=step.origin or self.flow.name,
                    step=self.masker.text(step.name),
                    where=str(step.where),
                    to=to,
                    subject=subject,
                    trigger=self.last_request[1] if self.last_request else None,
                    trigger_started=self.last_request[0] if self.last_request else None,
                    wait_started=started,
                    found_at=found_at,
                    timeout=timeout,
                    message=message,
                )
            )
        what = f"email to {to}" + (f" with subject containing {subject!r}" if subject else "")
        if message is None:
            raise _StepFailure(f"no {what} arrived within {timeout:g}s")
        return _from_mail(message, elapsed), what, [what]

    # -- expectations and captures ----------------------------------------------------------------

    def _actual(self, subject: str, argument: str | None, observed: _Observed, assertion: Assertion | Capture) -> Any:
        if subject == "status":
            return observed.status
        if subject == "duration_ms":
            return observed.duration_ms
        if subject == "body":
            return observed.text
        if subject == "subject":
            return observed.subject
        if subject == "header":
            return observed.header(argument or "")
        if subject == "cookie":
            return observed.cookie(argument or "")
        if subject == "json":
            assert assertion.path is not None
            return assertion.path.find(observed.json())
        raise AssertionError(subject)

    def _check(self, expect: tuple[Assertion, ...], observed: _Observed) -> str | None:
        for assertion in expect:
            actual = self._actual(assertion.subject, assertion.argument, observed, assertion)
            expected = self.scope.render(assertion.expected)
            if not _holds(assertion.op, actual, expected):
                what = assertion.subject if assertion.argument is None else f"{assertion.subject} {assertion.argument}"
                got = "nothing (not present)" if actual is MISSING else _show(actual)
                return (
                    f"expected {what} {assertion.op.replace('_', ' ')} {_show(expected)}, got {got} ({assertion.where})"
                )
        return None

    def _capture(self, captures: tuple[Capture, ...], observed: _Observed) -> None:
        for capture in captures:
            value = self._actual(capture.source, capture.argument, observed, capture)
            if value is MISSING or value is None:
                where = capture.argument or capture.source
                raise _StepFailure(f"capture {capture.name}: {capture.source} {where} not found ({capture.where})")
            if capture.regex is not None:
                match = re.search(capture.regex, str(value))
                if match is None:
                    raise _StepFailure(f"capture {capture.name}: /{capture.regex}/ did not match ({capture.where})")
                value = match.group(1) if match.groups() else match.group(0)
            self.scope.variables[capture.name] = value


class _FlowError(Exception):
    pass


def _observed(response: Response) -> _Observed:
    if response.status is None:
        return _Observed(None, (), response.error or "no response", response.elapsed_ms)
    return _Observed(
        response.status,
        response.headers,
        response.body.decode("utf-8", "replace"),
        response.elapsed_ms,
        response.cookies,
    )


def _from_mail(message: MailMessage, elapsed: float) -> _Observed:
    return _Observed(200, message.headers, message.text, elapsed, subject=message.subject)


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    # A header or a regex capture is text; "200" and 200 mean the same in a flow file.
    if isinstance(actual, (str, int, float)) and isinstance(expected, (str, int, float)):
        if not isinstance(actual, bool) and not isinstance(expected, bool):
            return str(actual) == str(expected)
    return False


def _holds(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        return (actual is not MISSING) == bool(expected)
    if actual is MISSING:
        return op in ("not_equals", "not_contains")
    if op == "equals":
        return _same(actual, expected)
    if op == "not_equals":
        return not _same(actual, expected)
    if op in ("contains", "not_contains"):
        if isinstance(actual, (list, tuple)):
            found = any(_same(item, expected) for item in actual)
        elif isinstance(actual, dict):
            found = str(expected) in actual
        else:
            found = str(expected) in str(actual)
        return found if op == "contains" else not found
    if op == "matches":
        return re.search(str(expected), str(actual)) is not None
    if op == "length":
        return hasattr(actual, "__len__") and len(actual) == expected
    if op == "in":
        return any(_same(actual, item) for item in expected)
    a, e = _number(actual), _number(expected)
    if a is None or e is None:
        return False
    return {"lt": a < e, "le": a <= e, "gt": a > e, "ge": a >= e}[op]
