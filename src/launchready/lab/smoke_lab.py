"""What the lab adds for smoke flows: its flow file, the env file with the webhook secret, and the
``[smoke]`` part of its launchready.toml (flows, env file, the Mailpit-style mailbox API)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

WEBHOOK_SECRET_ENV = "MARKETLAB_WEBHOOK_SECRET"


def lab_flow_file() -> Path:
    """The lab's smoke.yaml, shipped as package data."""
    return Path(str(files("launchready.lab").joinpath("smoke.yaml")))


def write_smoke_env(workdir: Path, webhook_secret: str) -> Path:
    """The payment provider's signing secret as a KEY=VALUE file flows read via ${env:NAME}."""
    path = workdir / "smoke.env"
    path.write_text(
        f"# the lab's webhook signing secret (read by smoke flows)\n{WEBHOOK_SECRET_ENV}={webhook_secret}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def smoke_toml(mailbox_url: str, env_file: Path) -> str:
    # json.dumps gives a valid TOML basic string for any path.
    return (
        "\n[smoke]\n"
        f"files = [{json.dumps(str(lab_flow_file()))}]\n"
        f"env_file = {json.dumps(str(env_file))}\n"
        "flow_timeout = 30.0\n"
        "\n[smoke.mailbox]\n"
        'kind = "mailpit"\n'
        f"url = {json.dumps(mailbox_url)}\n"
        "poll_seconds = 0.1\n"
    )
