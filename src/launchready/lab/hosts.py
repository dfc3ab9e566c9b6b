"""The lab's host names, derived from its domain."""

from __future__ import annotations

from dataclasses import dataclass

from launchready.lab.faults import LAB_DOMAIN


@dataclass(frozen=True)
class LabHosts:
    domain: str = LAB_DOMAIN

    @property
    def apex(self) -> str:
        return self.domain

    @property
    def www(self) -> str:
        return f"www.{self.domain}"

    @property
    def app(self) -> str:
        return f"app.{self.domain}"

    @property
    def admin(self) -> str:
        return f"admin.{self.domain}"

    @property
    def api(self) -> str:
        return f"api.{self.domain}"

    @property
    def mail(self) -> str:
        return f"mail.{self.domain}"

    @property
    def web(self) -> tuple[str, ...]:
        """Every host the web front serves (HTTPS by SNI, plain HTTP by Host)."""
        return (self.apex, self.www, self.app, self.admin, self.api)

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}{path}"
