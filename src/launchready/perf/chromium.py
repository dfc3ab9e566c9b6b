"""Page load in real headless Chromium over the DevTools protocol, with Lighthouse's mobile profile.

Chromium is driven directly over its DevTools WebSocket (aiohttp's client): no Puppeteer, no
Node. The profile is Lighthouse's "mobile" one: 150 ms RTT / 1.6 Mbps down / 750 kbps up
applied as DevTools' request-level throttling (latency 562.5 ms, 188743 B/s down, 86400 B/s
up, Lighthouse's adjusted values), 4x CPU slowdown, a 412x823 viewport at DPR 1.75. Metrics come
from the page's own Performance APIs (navigation timing for TTFB, paint timing for FCP, the
buffered largest-contentful-paint entries for LCP) and bytes/requests from Network events.

The browser dials the same endpoints as every other probe: every connection goes through a SOCKS5
proxy on loopback (browser_proxy.py) that applies --connect-to rules and the run's DNS, and with
--ca-bundle the leaf certificate of the page's host (verified here first, against the system
store plus that bundle) is accepted by its SPKI hash.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.perf.browser_proxy import GuardedProxy
from launchready.probes.dial import DialPlan, dial_plan, is_ip, redirect_refusal
from launchready.probes.dns import DnsProbe
from launchready.probes.tls import verifying_context

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "Chromium is not installed: install it with `sudo apt-get install chromium` (Debian/Ubuntu) to measure page loads"
)
MOBILE_LATENCY_MS = 562.5
MOBILE_DOWN_BPS = 188743
MOBILE_UP_BPS = 86400
MOBILE_CPU_SLOWDOWN = 4
MOBILE_VIEWPORT = (412, 823, 1.75)
MOBILE_UA = (
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36 launchready"
)
# After the load event, wait this long without new LCP candidates (or up to the cap) before reading.
_SETTLE_S = 1.0
_STARTUP_TIMEOUT_S = 20.0
_AFTER_LOAD_S = 1.0

# Installed before the page's first script runs (Page.addScriptToEvaluateOnNewDocument), so no
# long task or layout shift of the load is missed: long tasks are not kept in the performance
# buffer for a late observer.
_OBSERVE_JS = """
(() => {
  const lr = window.__launchready = {longTasks: [], shifts: [], lcp: null};
  const watch = (type, onEntry) => {
    try { new PerformanceObserver(list => list.getEntries().forEach(onEntry)).observe({type, buffered: true}); }
    catch (e) {}
  };
  watch('longtask', e => lr.longTasks.push([e.startTime, e.duration]));
  // Every shift counts, hadRecentInput or not: nothing types or clicks during the load, and Chromium
  // takes the device emulation for input (Lighthouse ignores the flag the same way without input).
  watch('layout-shift', e => lr.shifts.push([e.startTime, e.value]));
  watch('largest-contentful-paint', e => {
    const el = e.element;
    let name = null;
    if (el) {
      name = el.tagName.toLowerCase();
      if (el.id) name += '#' + el.id;
      else if (typeof el.className === 'string' && el.className.trim()) name += '.' + el.className.trim().split(/\\s+/).join('.');
      const text = (el.innerText || '').trim().replace(/\\s+/g, ' ');
      if (e.url) name += ' ' + e.url;
      else if (text) name += ' "' + text.slice(0, 60) + (text.length > 60 ? '…' : '') + '"';
    }
    lr.lcp = {time: e.renderTime || e.loadTime || e.startTime, element: name, size: e.size};
  });
})();
"""

# Lighthouse's definitions, computed from what the observer saw:
# - TBT: for each long task after First Contentful Paint, the part beyond 50 ms, summed (Lighthouse
#   stops at Time to Interactive; this stops when the load has settled, which bounds it the same way
#   on a page that goes quiet);
# - CLS: the largest session window of layout shifts (shifts less than 1 s apart, window at most 5 s).
_METRICS_JS = """
new Promise(settled => requestAnimationFrame(() => requestAnimationFrame(settled))).then(() => new Promise(resolve => {
  // Two frames first: a layout shift is reported when the frame that shows it is drawn.
  const lr = window.__launchready || {longTasks: [], shifts: [], lcp: null};
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const fcpTime = fcp ? fcp.startTime : 0;
  let tbt = 0;
  for (const [start, duration] of lr.longTasks) {
    const end = start + duration;
    const from = Math.max(start, fcpTime);
    if (end - from > 50) tbt += Math.min(duration, end - from) - 50;
  }
  let cls = 0, windowValue = 0, windowStart = null, last = null;
  for (const [time, value] of lr.shifts) {
    if (windowStart === null || time - last >= 1000 || time - windowStart >= 5000) {
      windowStart = time; windowValue = 0;
    }
    windowValue += value; last = time;
    cls = Math.max(cls, windowValue);
  }
  setTimeout(() => resolve(JSON.stringify({
    ttfb: nav ? nav.responseStart : null,
    fcp: fcp ? fcp.startTime : null,
    lcp: lr.lcp ? lr.lcp.time : null,
    lcp_element: lr.lcp ? lr.lcp.element : null,
    cls: cls,
    tbt: tbt,
    load: nav ? nav.loadEventEnd : null,
    status: nav && nav.responseStatus !== undefined ? nav.responseStatus : null,
  })), 50);
}))
"""


def find_chromium() -> str | None:
    explicit = os.environ.get("LAUNCHREADY_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class RequestFact:
    url: str
    bytes: int
    mime: str
    status: int | None


@dataclass(frozen=True)
class PageLoad:
    """What one cold mobile load of a page measured; ``error`` when the page did not load."""

    url: str
    ttfb_ms: float | None = None
    fcp_ms: float | None = None
    lcp_ms: float | None = None
    # The element Chromium took as the largest contentful paint: tag#id or tag.class, then its
    # image URL or the start of its text.
    lcp_element: str | None = None
    cls: float | None = None  # Cumulative Layout Shift (largest session window)
    tbt_ms: float | None = None  # Total Blocking Time after FCP (long tasks' time over 50 ms)
    load_ms: float | None = None
    status: int | None = None
    total_bytes: int = 0
    requests: tuple[RequestFact, ...] = field(default=())
    error: str | None = None
    # Requests the page made to a private address no flag names (cloud metadata, the LAN),
    # failed before they left the browser: "URL: why".
    blocked: tuple[str, ...] = ()

    @property
    def largest(self) -> tuple[RequestFact, ...]:
        return tuple(sorted(self.requests, key=lambda r: r.bytes, reverse=True)[:5])


class ChromiumError(Exception):
    pass


def _spki_hash(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _handshake_problem(net: NetSettings, host: str, address: str, port: int) -> str | None:
    """Why the host's certificate does not verify against our trust (system store plus
    --ca-bundle), in OpenSSL's words (hostname mismatch, expired, unknown issuer); None if it does."""
    context = verifying_context(net)
    try:
        with socket.create_connection((address, port), timeout=net.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc.reason or exc)
    except (OSError, ssl.SSLError) as exc:
        return f"the TLS handshake failed: {exc}"


async def _dial_plan(net: NetSettings, dns: DnsLookup | None, host: str, port: int) -> DialPlan:
    """Where the probes would dial ``host:port``: through the run's resolver, or (the pageload
    command has none) through one opened for this call."""
    if dns is not None:
        return await dial_plan(net, dns, host, port)
    own = DnsProbe(net)
    try:
        return await dial_plan(net, own, host, port)
    finally:
        await own.close()


async def tls_problem(net: NetSettings, url: str, *, dns: DnsLookup | None = None) -> str | None:
    """What is wrong with ``url``'s certificate, dialled as the probes dial it; None when nothing is."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or 443
    plan = await _dial_plan(net, dns, host, port)
    if not plan.endpoints:
        return None
    address, dial_port = plan.endpoints[0]
    return await asyncio.to_thread(_handshake_problem, net, host, address, dial_port)


def _verified_leaf_spki(net: NetSettings, host: str, address: str, port: int) -> str | None:
    """The leaf's SPKI hash when the host's certificate verifies against our trust; None otherwise."""
    context = verifying_context(net)
    try:
        with socket.create_connection((address, port), timeout=net.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    return _spki_hash(der) if der else None


def proxy_args(proxy_port: int) -> list[str]:
    """Every connection through the run's SOCKS5 proxy (browser_proxy.py), loopback included
    (Chromium bypasses a proxy for loopback unless told not to), and no name resolved by Chromium
    itself: a name the system resolver answers differently from the run's DNS is never dialled."""
    return [
        f"--proxy-server=socks5://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ]


async def browser_args(net: NetSettings, url: str, *, proxy_port: int, dns: DnsLookup | None = None) -> list[str]:
    """The proxy that dials what the probes dial (and, with --ca-bundle, the trusted leaf SPKI).

    ``dns`` is the run's resolver; without one (the pageload command) one is opened for this call.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    plan = await _dial_plan(net, dns, host, port)
    args = proxy_args(proxy_port)
    if plan.endpoints:
        address, dial_port = plan.endpoints[0]
        if tls and net.ca_bundle is not None:
            spki = await asyncio.to_thread(_verified_leaf_spki, net, host, address, dial_port)
            if spki:
                args.append(f"--ignore-certificate-errors-spki-list={spki}")
    return args


class _AddressGuard:
    """Which of the page's requests may leave the browser: the page is the site's word, not the
    user's, so an image at http://169.254.169.254/ or a name the run's DNS resolves to the LAN is
    refused as a redirect or a DNS answer is (NetSettings.steering_refusal); the page's own host,
    --connect-to names and public hosts pass."""

    def __init__(self, net: NetSettings, dns: DnsLookup, start_host: str) -> None:
        self.net = net
        self.dns = dns
        self.start_host = start_host
        self.blocked: list[str] = []
        self._known: dict[str, str | None] = {}

    async def refusal(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
        except ValueError:
            return None  # Chromium refuses what it cannot parse itself
        if parts.scheme not in ("http", "https", "ws", "wss") or not host or host == self.start_host:
            return None
        if host not in self._known:
            self._known[host] = await self._host_refusal(host, parts.scheme)
        return self._known[host]

    async def _host_refusal(self, host: str, scheme: str) -> str | None:
        if is_ip(host):
            return redirect_refusal(self.net, self.start_host, host)
        if self.net.route(host, 443 if scheme in ("https", "wss") else 80) is not None:
            return None
        a, aaaa = await self.dns.addresses(host)
        answered = a.records + aaaa.records
        refused = [why for address in answered if (why := self.net.steering_refusal(address)) is not None]
        # Only when every address is refused: a name the run's DNS cannot resolve is Chromium's to try.
        return f"{host} resolves to {refused[0]}" if refused and len(refused) == len(answered) else None

    async def on_paused(self, cdp: _Cdp, event: dict[str, Any]) -> None:
        params = event.get("params", {})
        request_id = params.get("requestId")
        url = str(params.get("request", {}).get("url", ""))
        why = await self.refusal(url)
        with contextlib.suppress(ChromiumError):
            if why is None:
                await cdp.send("Fetch.continueRequest", {"requestId": request_id}, event.get("sessionId"))
            else:
                self.blocked.append(f"{url}: {why}")
                await cdp.send(
                    "Fetch.failRequest",
                    {"requestId": request_id, "errorReason": "BlockedByClient"},
                    event.get("sessionId"),
                )


class _Cdp:
    """A minimal DevTools client: numbered commands, events queued per session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # Answers Fetch.requestPaused as the events arrive: a paused request (the navigation among
        # them) waits for it, so it cannot wait in the queue behind a command that waits for the page.
        self.on_paused: Callable[[dict[str, Any]], Coroutine[Any, Any, None]] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("method") == "Fetch.requestPaused" and self.on_paused is not None:
                task = asyncio.get_running_loop().create_task(self.on_paused(data))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
            elif "method" in data:
                self.events.put_nowait(data)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ChromiumError("the browser closed the DevTools connection"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        payload: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            payload["sessionId"] = session
        await self._ws.send_str(json.dumps(payload))
        reply = await future
        if "error" in reply:
            raise ChromiumError(f"{method}: {reply['error'].get('message', reply['error'])}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def close(self) -> None:
        for task in list(self._handlers):
            task.cancel()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def _launch(binary: str, profile: str, extra: list[str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--mute-audio",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        *extra,
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None

    async def ws_url() -> str:
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                raise ChromiumError(f"Chromium exited before opening DevTools (code {await proc.wait()})")
            match = re.search(rb"DevTools listening on (ws://\S+)", line)
            if match:
                return match.group(1).decode()

    try:
        url = await asyncio.wait_for(ws_url(), _STARTUP_TIMEOUT_S)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    # Keep draining stderr so a chatty browser never blocks on a full pipe.
    asyncio.get_running_loop().create_task(_drain(proc))
    return proc, url


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    with contextlib.suppress(Exception):
        while await proc.stderr.read(65536):
            pass


async def measure_page(
    url: str, net: NetSettings, *, binary: str, timeout_s: float = 60.0, dns: DnsLookup | None = None
) -> PageLoad:
    """One cold load of ``url`` under the mobile profile; browser failures become ``PageLoad.error``."""
    profile = tempfile.mkdtemp(prefix="launchready-chromium-")
    proc: asyncio.subprocess.Process | None = None
    own_dns: DnsProbe | None = None
    if dns is None:  # the pageload command: this load's own resolver, closed with it
        own_dns = dns = DnsProbe(net)
    start_host = (urlsplit(url).hostname or "").lower().rstrip(".")
    guard = _AddressGuard(net, dns, start_host)
    try:
        async with GuardedProxy(net, dns, start_host) as proxy:
            args = await browser_args(net, url, proxy_port=proxy.port, dns=dns)
            proc, ws_url = await _launch(binary, profile, args)
            async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, max_msg_size=0) as ws:
                cdp = _Cdp(ws)
                cdp.on_paused = lambda event: guard.on_paused(cdp, event)
                try:
                    load = await asyncio.wait_for(_load(cdp, url), timeout_s)
                except TimeoutError:
                    return PageLoad(url, error=f"the page did not finish loading within {timeout_s:g}s")
                finally:
                    await cdp.close()
        # The proxy also refuses what the Fetch domain never pauses (WebSockets, a connection
        # Chromium opens ahead of a request); a host already blocked by the guard is listed once.
        guarded_hosts = {_blocked_host(line) for line in guard.blocked}
        refused = [f"{host}:{port}: {why}" for host, port, why in proxy.refused if host not in guarded_hosts]
        load = replace(load, blocked=(*guard.blocked, *dict.fromkeys(refused)))
        parts = urlsplit(url)
        why_not = proxy.failures.get((start_host, parts.port or (443 if parts.scheme == "https" else 80)))
        if load.error is not None and "ERR_SOCKS_CONNECTION_FAILED" in load.error and why_not is not None:
            load = replace(load, error=load.error.replace("net::ERR_SOCKS_CONNECTION_FAILED", why_not))
        if load.error is not None and "ERR_CERT" in load.error:
            # Chromium names one error for any certificate it cannot use (an unknown CA, often, when
            # the real problem is the name); our own handshake says which check failed.
            problem = await tls_problem(net, url, dns=dns)
            if problem is not None:
                load = replace(load, error=f"TLS certificate problem: {problem} ({load.error})")
        return load
    except (ChromiumError, OSError, aiohttp.ClientError) as exc:
        return PageLoad(url, error=f"Chromium: {exc}")
    finally:
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if own_dns is not None:
            await own_dns.close()
        shutil.rmtree(profile, ignore_errors=True)


def _blocked_host(line: str) -> str:
    """The host of a guard's "URL: why" line."""
    with contextlib.suppress(ValueError):
        return (urlsplit(line.split(" ", 1)[0].rstrip(":")).hostname or "").lower().rstrip(".")
    return ""


async def _load(cdp: _Cdp, url: str) -> PageLoad:
    target = await cdp.send("Target.createTarget", {"url": "about:blank"})
    attached = await cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
    s = attached["sessionId"]
    width, height, dpr = MOBILE_VIEWPORT
    await cdp.send("Network.enable", {}, s)
    await cdp.send("Page.enable", {}, s)
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True}, s)
    await cdp.send("Network.setUserAgentOverride", {"userAgent": MOBILE_UA}, s)
    await cdp.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": dpr, "mobile": True},
        s,
    )
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": MOBILE_CPU_SLOWDOWN}, s)
    await cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": _OBSERVE_JS}, s)
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": MOBILE_LATENCY_MS,
            "downloadThroughput": MOBILE_DOWN_BPS,
            "uploadThroughput": MOBILE_UP_BPS,
        },
        s,
    )
    if cdp.on_paused is not None:
        # Every request pauses once for the address guard before it leaves the browser.
        await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}, s)
    navigated = await cdp.send("Page.navigate", {"url": url}, s)
    if navigated.get("errorText"):
        return PageLoad(url, error=f"navigation failed: {navigated['errorText']}")
    responses: dict[str, tuple[str, str, int | None]] = {}
    sizes: dict[str, int] = {}
    failed: list[str] = []
    loaded = False
    while not loaded or any(rid not in sizes for rid in responses if rid not in failed):
        timeout = None if not loaded else _SETTLE_S
        try:
            event = await asyncio.wait_for(cdp.events.get(), timeout)
        except TimeoutError:
            break
        if event.get("sessionId") != s:
            continue
        method, params = event["method"], event.get("params", {})
        if method == "Network.responseReceived":
            response = params["response"]
            responses[params["requestId"]] = (
                response.get("url", ""),
                response.get("mimeType", ""),
                response.get("status"),
            )
        elif method == "Network.loadingFinished":
            sizes[params["requestId"]] = int(params.get("encodedDataLength", 0))
        elif method == "Network.loadingFailed":
            failed.append(params["requestId"])
        elif method == "Page.loadEventFired":
            loaded = True
    # Lighthouse's pauseAfterLoadMs: late layout shifts and long tasks of the load belong to it.
    await asyncio.sleep(_AFTER_LOAD_S)
    evaluated = await cdp.send(
        "Runtime.evaluate", {"expression": _METRICS_JS, "awaitPromise": True, "returnByValue": True}, s
    )
    metrics = json.loads(evaluated.get("result", {}).get("value") or "{}")
    requests = tuple(RequestFact(u, sizes.get(rid, 0), mime, status) for rid, (u, mime, status) in responses.items())
    first_status = next((r.status for r in requests if r.url.rstrip("/") == url.rstrip("/")), None)
    return PageLoad(
        url,
        ttfb_ms=metrics.get("ttfb"),
        fcp_ms=metrics.get("fcp"),
        lcp_ms=metrics.get("lcp"),
        lcp_element=metrics.get("lcp_element"),
        cls=metrics.get("cls"),
        tbt_ms=metrics.get("tbt"),
        load_ms=metrics.get("load"),
        status=metrics.get("status") or first_status,
        total_bytes=sum(sizes.values()),
        requests=requests,
    )
