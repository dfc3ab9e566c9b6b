"""Option types shared by every command that touches the network or renders a report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

NameserverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--nameserver", metavar="HOST[:PORT]", help="DNS server to ask (repeatable); default: the system resolver."
    ),
]
CaBundleOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca-bundle", metavar="FILE", help="Extra trusted CA certificates (PEM); also read from SSL_CERT_FILE."
    ),
]
ConnectToOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--connect-to",
        metavar="HOST:PORT:ADDR:PORT",
        help="Dial ADDR:PORT whenever HOST:PORT is requested, as curl does; empty HOST or PORT matches any (repeatable).",
    ),
]
RdapServerOpt = Annotated[
    str | None,
    typer.Option(
        "--rdap-server",
        metavar="URL",
        help="RDAP base URL to ask for registration data; default: the server IANA's bootstrap names for the TLD.",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="Network timeout for one DNS, TLS or HTTP exchange.")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", metavar="FILE", help="launchready.toml or pyproject.toml; default: searched upward from here."
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]


class FindingsFormat(str, Enum):
    """The formats of a findings report (audit, email test): the output layer writes each."""

    TERMINAL = "terminal"
    JSON = "json"
    MD = "md"
    HTML = "html"
    SARIF = "sarif"
    JUNIT = "junit"


ReportOutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
]
