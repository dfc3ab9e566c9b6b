"""``[smoke]``: where the flow files live, the mailbox flows read, deploy/rollback commands per
environment and who hears about deploys. docs/smoke.md documents the flow files themselves.

Relative paths (flow file globs, env_file) are resolved against the directory of the config
file when the loader passes it in the validation context (``{"base_dir": Path}``); without it
(a Config built in code) they stay relative to the working directory.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Literal

from pydantic import Field, HttpUrl, ValidationInfo, field_validator, model_validator

from launchready.config.strict import StrictModel

# A secret in the config file is always a reference to the environment, never the value.
ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")


def _env_reference(value: str | None) -> str | None:
    if value is not None and not ENV_REFERENCE.match(value):
        raise ValueError(f"expected a reference to an environment variable like '${{env:NAME}}', got {value[:4]!r}…")
    return value


class MailboxSettings(StrictModel):
    """Where ``email`` steps read mail: a Mailpit-style HTTP API (the lab speaks it) or IMAP."""

    kind: Literal["mailpit", "imap"] = Field(default="mailpit", description="mailpit (HTTP API) or imap.")
    url: HttpUrl | None = Field(default=None, description="Mailpit API base URL, e.g. http://127.0.0.1:8025.")
    host: str | None = Field(default=None, description="IMAP server host name.")
    port: int | None = Field(default=None, ge=1, le=65535, strict=True, description="IMAP port (993 with tls).")
    tls: bool = Field(default=True, strict=True, description="IMAP over TLS (IMAPS); false: plain IMAP.")
    username: str | None = Field(default=None, description="IMAP user, or ${env:NAME}.")
    password: str | None = Field(default=None, description="IMAP password as ${env:NAME}, never the value.")
    folder: str = Field(default="INBOX", description="IMAP folder to search.")
    poll_seconds: float = Field(default=1.0, gt=0, le=60, strict=False, description="Seconds between polls.")

    @field_validator("password")
    @classmethod
    def _password_from_env(cls, value: str | None) -> str | None:
        return _env_reference(value)

    @model_validator(mode="after")
    def _complete(self) -> MailboxSettings:
        if self.kind == "mailpit" and self.url is None:
            raise ValueError('expected url = "http://HOST:PORT" for a mailpit mailbox')
        if self.kind == "imap" and (not self.host or not self.username or not self.password):
            raise ValueError("expected host, username and password for an imap mailbox")
        return self


def _command(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise ValueError(f"expected a shell-style command line, got {value!r} ({exc})") from None
    if not words:
        raise ValueError("expected a command, got ''")
    return value


class DeploySettings(StrictModel):
    """``[smoke.deploy.NAME]``: how an environment is deployed and rolled back (run without a shell)."""

    command: str | None = Field(default=None, description="Deploy command when none follows `--`.")
    rollback: str | None = Field(default=None, description="Command that restores the previous release.")
    rollback_check: str | None = Field(
        default=None, description="A harmless command proving the rollback path works (e.g. a dry run)."
    )
    health_timeout: float = Field(default=120.0, gt=0, le=3600, description="Seconds to wait for health.")
    timeout: float = Field(
        default=900.0, gt=0, le=86400, description="Seconds the deploy (and the rollback) command may run."
    )
    kill_grace: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a stopped command's process group gets after SIGTERM before SIGKILL.",
    )

    @field_validator("command", "rollback", "rollback_check")
    @classmethod
    def _commands(cls, value: str | None) -> str | None:
        return _command(value)


class NotifyTarget(StrictModel):
    """``[[smoke.notify]]``: one place that hears about deploys."""

    kind: Literal["slack", "webhook", "email"] = Field(description="slack, webhook or email.")
    url: str | None = Field(default=None, description="Webhook URL (slack, webhook), usually ${env:NAME}.")
    secret: str | None = Field(default=None, description="webhook: HMAC signing secret as ${env:NAME}.")
    smtp: str | None = Field(default=None, description="email: the SMTP server as host:port.")
    sender: str | None = Field(default=None, description="email: the From address.")
    to: tuple[str, ...] = Field(default=(), description="email: recipients.")
    starttls: bool = Field(default=False, strict=True, description="email: upgrade with STARTTLS.")
    username: str | None = Field(default=None, description="email: SMTP user, or ${env:NAME}.")
    password: str | None = Field(default=None, description="email: SMTP password as ${env:NAME}.")

    @field_validator("secret", "password")
    @classmethod
    def _from_env(cls, value: str | None) -> str | None:
        return _env_reference(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or ENV_REFERENCE.match(value) or re.match(r"^https?://[^/\s]+", value, re.I):
            return value
        raise ValueError(f"expected an http(s) URL or ${{env:NAME}}, got {value[:12]!r}…")

    @field_validator("smtp")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> NotifyTarget:
        if self.kind in ("slack", "webhook") and self.url is None:
            raise ValueError(f"expected url for a {self.kind} target")
        if self.kind == "email" and (self.smtp is None or not self.to or self.sender is None):
            raise ValueError("expected smtp, sender and to for an email target")
        return self


class SmokeSettings(StrictModel):
    files: tuple[str, ...] = Field(default=(), description="Flow files or globs, relative to this config.")
    env_file: str | None = Field(
        default=None, description="KEY=VALUE file read for ${env:NAME} (after the environment)."
    )
    flow_timeout: float = Field(default=60.0, gt=0, le=600, description="Seconds one flow may take.")
    concurrency: int = Field(default=4, ge=1, le=32, strict=True, description="Flows running at once.")
    mailbox: MailboxSettings | None = Field(default=None, description="Where email steps read mail.")
    deploy: dict[str, DeploySettings] = Field(default={}, description="Deploy and rollback per environment.")
    notify: tuple[NotifyTarget, ...] = Field(default=(), description="Who hears about deploys.")

    @field_validator("files")
    @classmethod
    def _resolve_files(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return tuple(_resolved(v, info) for v in values)

    @field_validator("env_file")
    @classmethod
    def _resolve_env_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _resolved(value, info)


def _resolved(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise ValueError("expected a file name or glob, got ''")
    context = info.context if isinstance(info.context, dict) else {}
    base = context.get("base_dir")
    path = Path(value).expanduser()
    if isinstance(base, Path) and not path.is_absolute():
        return str(base / path)
    return str(path)
