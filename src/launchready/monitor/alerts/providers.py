"""The provider table the alert worker sends through, built from ``[[monitor.alerts]]``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from launchready.config.sections.monitor_alerts import AlertConfig, alert_name, name_alerts
from launchready.core.net import NetSettings
from launchready.notify.base import Provider
from launchready.notify.email import EmailProvider
from launchready.notify.slack import SlackProvider
from launchready.notify.transport import Transport
from launchready.notify.webhook import WebhookProvider
from launchready.smoke.secrets import Masker


def provider_from_config(alert: AlertConfig, env: Mapping[str, str], transport: Transport, masker: Masker) -> Provider:
    name = alert_name(alert)
    if alert.kind == "slack":
        return SlackProvider(name, url=alert.url, env=env, transport=transport, masker=masker)
    if alert.kind == "webhook":
        return WebhookProvider(name, url=alert.url, secret=alert.secret, env=env, transport=transport, masker=masker)
    return EmailProvider(
        name,
        host=alert.host,
        port=alert.port,
        sender=alert.sender,
        to=alert.to,
        starttls=alert.starttls,
        username=alert.username,
        password=alert.password,
        env=env,
        transport=transport,
        masker=masker,
    )


class ProviderTable(Mapping[str, Provider]):
    """Providers by name, sharing one transport; ``close()`` when the worker is done."""

    def __init__(self, providers: Sequence[Provider], transport: Transport) -> None:
        self._providers = {p.name: p for p in providers}
        self._transport = transport

    def __getitem__(self, name: str) -> Provider:
        return self._providers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)

    def problems(self) -> list[str]:
        """Configuration problems, one line each, naming the alert and the field."""
        return [
            f"[[monitor.alerts]] {name}: {problem}" for name, p in self._providers.items() for problem in p.validate()
        ]

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
        await self._transport.close()


def build_providers(
    alerts: Sequence[AlertConfig], env: Mapping[str, str], net: NetSettings, masker: Masker | None = None
) -> ProviderTable:
    transport = Transport(net)
    shared = masker if masker is not None else Masker()
    return ProviderTable(
        [provider_from_config(a, env, transport, shared) for a in name_alerts(list(alerts))], transport
    )
