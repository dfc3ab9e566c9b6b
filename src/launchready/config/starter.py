"""The commented launchready.toml that ``launchready init DOMAIN`` writes from what discovery found.

The file's text is the Jinja2 template ``config/templates/launchready.toml.j2``; this module
validates and describes what discovery found and hands it to the template. Discovered facts
(hosts that resolve, DKIM selectors) are written as live values; what DNS
cannot tell (environments, approved senders, budgets, owners, redirects) is written as commented
examples so the file loads as-is and every key is one uncomment away. Renderer and loader are
tested together: whatever this writes must load and give back the discovered values.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from pydantic import TypeAdapter, ValidationError

from launchready.config.errors import ConfigError
from launchready.config.model import Budgets, Config, DkimSelector, HostLabel, Sender

if TYPE_CHECKING:
    from launchready.engine.context import SiteMap

TEMPLATE = "launchready.toml.j2"

_HOW_FOUND = {
    "apex": "the apex",
    "www": "www",
    "config": "from your config",
    "common-name": "common name",
    "mx": "MX host",
}


@dataclass(frozen=True)
class FoundHost:
    """A name that answered in DNS, and how discovery came to ask for it."""

    name: str
    found_by: str  # "apex", "www", "config", "common-name", "mx"
    addresses: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()  # names the CNAME chain led through, after ``name``


@dataclass(frozen=True)
class StarterFacts:
    """What discovery saw for the domain; everything the starter file can fill in."""

    hosts: tuple[FoundHost, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    # SPF mechanisms naming senders, as written in the record: "include:_spf.google.com", "ip4:192.0.2.1".
    spf_terms: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()

    @classmethod
    def from_site_map(
        cls, site: SiteMap, *, spf_terms: Iterable[str] = (), dkim_selectors: Iterable[str] = ()
    ) -> StarterFacts:
        """Facts from a discovery run; hosts that neither resolve nor alias anything are left out."""
        hosts = tuple(
            FoundHost(h.name, h.found_by, h.addresses, h.cname_chain)
            for h in site.hosts
            if h.has_address or h.cname_chain
        )
        return cls(
            hosts=hosts, mx_hosts=site.mx_hosts, spf_terms=tuple(spf_terms), dkim_selectors=tuple(dkim_selectors)
        )


def render_starter(
    domain: str,
    discovered: StarterFacts,
    *,
    nameservers: Iterable[str] = (),
    ca_bundle: str | None = None,
    connect_to: Iterable[str] = (),
    rdap_server: str | None = None,
) -> str:
    """A commented launchready.toml for ``domain`` that loads cleanly with load_config.

    The network flags `init` was given are kept under [net], so a plain `launchready audit`
    reaches the same servers."""
    domain = _valid_domain(domain)
    labels = _subdomain_labels(domain, discovered.hosts)
    selectors = _valid(DkimSelector, discovered.dkim_selectors)
    senders = _valid(Sender, _approving_terms(discovered.spf_terms))

    labelled = [(label, _describe_host(host)) for label, host in labels]
    return _template().render(
        domain=domain,
        labels=labelled,
        mx_hosts=discovered.mx_hosts,
        senders=senders,
        selectors=selectors,
        budgets=Budgets(),
        net_nameservers=tuple(_single_line(n) for n in nameservers),
        net_ca_bundle=_single_line(ca_bundle) if ca_bundle else None,
        net_connect_to=tuple(_single_line(c) for c in connect_to),
        net_rdap_server=_single_line(rdap_server) if rdap_server else None,
    )


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("launchready.config", "templates"),
        autoescape=False,  # TOML, not HTML: values are quoted by the toml_str filter where TOML needs it
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_single_line,
    )
    env.filters["toml_str"] = _toml_str
    env.filters["toml_array"] = _toml_array
    env.filters["num"] = _num
    return env.get_template(TEMPLATE)


def write_starter(path: Path, text: str, *, force: bool) -> Path:
    """Write ``text`` to ``path``; an existing file is kept unless ``force``.

    Raises ConfigError (exit code 2) when the file exists, or cannot be written.
    """
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: no such directory {str(path.parent)!r}")
    try:
        if not force:
            # "x" refuses atomically, so a file created after any check is not overwritten either.
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            return path
        # Replace in one step: an interrupted --force never leaves half a config behind.
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


def _single_line(value: object) -> str:
    # Discovered values end up in comments; a newline in one would turn the rest into TOML.
    return " ".join(str(value).splitlines())


def _valid_domain(domain: str) -> str:
    try:
        normalised = Config(domain=domain).domain
    except ValidationError:
        raise ConfigError(f"expected a domain name like 'example.com', got {domain!r}") from None
    assert normalised is not None
    return normalised


def _valid(kind: Any, values: Iterable[str]) -> tuple[str, ...]:
    """The values the model accepts, normalised, first occurrence kept."""
    adapter: TypeAdapter[str] = TypeAdapter(kind)
    out: dict[str, None] = {}
    for value in values:
        try:
            out[adapter.validate_python(value)] = None
        except ValidationError:
            continue  # the model would reject it, and the file must load
    return tuple(out)


def _approving_terms(terms: Iterable[str]) -> Iterator[str]:
    """SPF terms that let someone send: mechanisms with a pass qualifier, never 'all' or modifiers."""
    for term in terms:
        term = term.strip().removeprefix("+")
        if not term or term[0] in "-~?" or "=" in term or term.lower() == "all":
            continue
        yield term


def _subdomain_labels(domain: str, hosts: Iterable[FoundHost]) -> list[tuple[str, FoundHost]]:
    adapter: TypeAdapter[str] = TypeAdapter(HostLabel)
    suffix = "." + domain
    seen: set[str] = set()
    out: list[tuple[str, FoundHost]] = []
    for host in hosts:
        name = host.name.lower().rstrip(".")
        # MX hosts are listed under [email]; hosts outside the domain are not ours to audit.
        if host.found_by == "mx" or not name.endswith(suffix):
            continue
        try:
            label = adapter.validate_python(name[: -len(suffix)])
        except ValidationError:
            continue
        if label not in seen:
            seen.add(label)
            out.append((label, host))
    return out


def _describe_host(host: FoundHost) -> str:
    parts = [_HOW_FOUND.get(host.found_by, host.found_by)]
    if host.cname_chain:
        parts.append("alias of " + host.cname_chain[-1])
    if host.addresses:
        shown = ", ".join(host.addresses[:3])
        more = len(host.addresses) - 3
        parts.append(shown + (f" (+{more} more)" if more > 0 else ""))
    return "; ".join(parts)


def _toml_str(value: str) -> str:
    escaped = []
    for ch in value:
        if ch == "\\":
            escaped.append("\\\\")
        elif ch == '"':
            escaped.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def _toml_array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
