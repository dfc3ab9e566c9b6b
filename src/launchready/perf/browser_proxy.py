"""A SOCKS5 proxy on loopback through which Chromium makes every connection of a page load.

Chromium would otherwise resolve the names a page asks for through the system resolver, while
the address guard (chromium.py) judged them through the run's DNS: a lab name the system cannot
resolve failed to load, and a name the two resolvers answer differently could be judged on one
address and dialled on another. With SOCKS5, Chromium hands the proxy the name itself (remote
resolution) and the proxy dials what every probe would dial: --connect-to routes first, then the
run's DNS with its private-address rule (``probes.dial.dial_plan``). So the address judged is the
address dialled, and WebSocket connections, which the DevTools Fetch domain never pauses, pass
the same rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import struct

from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup
from launchready.probes.dial import dial_plan, is_ip, redirect_refusal

_VERSION = 5
_NO_AUTH = 0
_CONNECT = 1
_ATYP_IPV4, _ATYP_NAME, _ATYP_IPV6 = 1, 3, 4
# RFC 1928 6 reply codes.
_SUCCEEDED = 0
_NOT_ALLOWED = 2
_HOST_UNREACHABLE = 4
_COMMAND_NOT_SUPPORTED = 7
_ADDRESS_TYPE_NOT_SUPPORTED = 8
_CHUNK = 65536


class GuardedProxy:
    """Serves SOCKS5 CONNECT on 127.0.0.1; ``refused`` holds (host, port, why) for each connection
    the private-address rule stopped (the page's own host is dialled as the probes dial it)."""

    def __init__(self, net: NetSettings, dns: DnsLookup, start_host: str) -> None:
        self.net = net
        self.dns = dns
        self.start_host = start_host
        self.refused: list[tuple[str, int, str]] = []
        # Why the last connection to (host, port) failed, in Chromium's own error names: Chromium
        # reports any proxy failure as ERR_SOCKS_CONNECTION_FAILED, and the page load says which.
        self.failures: dict[tuple[str, int], str] = {}
        self.port = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> GuardedProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            await self._handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError):
            pass
        except asyncio.CancelledError:
            # Cancelled only by __aexit__, as the page load ends. The handler ends normally: on
            # Python 3.11 start_server asks a cancelled handler task for its exception, and the
            # loop prints that CancelledError as a traceback on the user's terminal.
            pass
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, methods = await reader.readexactly(2)
        offered = await reader.readexactly(methods)
        if version != _VERSION or _NO_AUTH not in offered:
            writer.write(bytes((_VERSION, 0xFF)))
            return
        writer.write(bytes((_VERSION, _NO_AUTH)))
        version, command, _reserved, address_type = await reader.readexactly(4)
        if address_type == _ATYP_IPV4:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif address_type == _ATYP_IPV6:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        elif address_type == _ATYP_NAME:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode("idna").lower().rstrip(".")
        else:
            await self._reply(writer, _ADDRESS_TYPE_NOT_SUPPORTED)
            return
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if version != _VERSION or command != _CONNECT:
            await self._reply(writer, _COMMAND_NOT_SUPPORTED)
            return
        upstream, code = await self._dial(host, port)
        if upstream is None:
            await self._reply(writer, code)
            return
        up_reader, up_writer = upstream
        try:
            await self._reply(writer, _SUCCEEDED)
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            up_writer.close()

    async def _dial(self, host: str, port: int) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, int]:
        """A connection to where the probes would dial ``host:port``, or None and the SOCKS reply code."""
        if is_ip(host):
            why = redirect_refusal(self.net, self.start_host, host)
            if why is not None:
                self.refused.append((host, port, why))
                self.failures[(host, port)] = f"net::ERR_BLOCKED_BY_CLIENT ({why})"
                return None, _NOT_ALLOWED
        plan = await dial_plan(self.net, self.dns, host, port)
        if not plan.endpoints:
            if plan.error is not None and " resolves to " in plan.error:
                self.refused.append((host, port, plan.error))
                self.failures[(host, port)] = f"net::ERR_BLOCKED_BY_CLIENT ({plan.error})"
                return None, _NOT_ALLOWED
            self.failures[(host, port)] = f"net::ERR_NAME_NOT_RESOLVED ({plan.error or host + ' has no address'})"
            return None, _HOST_UNREACHABLE
        problems: list[str] = []
        for address, dial_port in plan.endpoints:
            try:
                return await asyncio.wait_for(asyncio.open_connection(address, dial_port), self.net.timeout), 0
            except ConnectionRefusedError:
                problems.append(f"net::ERR_CONNECTION_REFUSED ({address} port {dial_port})")
            except TimeoutError:
                problems.append(f"net::ERR_CONNECTION_TIMED_OUT ({address} port {dial_port})")
            except OSError as exc:
                problems.append(f"net::ERR_CONNECTION_FAILED ({address} port {dial_port}: {exc.strerror or exc})")
        self.failures[(host, port)] = "; ".join(problems)
        return None, _HOST_UNREACHABLE

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
        # The bound address is of no use to Chromium: 0.0.0.0:0, as many proxies answer.
        writer.write(bytes((_VERSION, code, 0, _ATYP_IPV4, 0, 0, 0, 0, 0, 0)))
        await writer.drain()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copies until ``source`` ends, then half-closes ``sink`` so the other side sees the end."""
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await source.read(_CHUNK):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
