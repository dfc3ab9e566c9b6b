"""HTML rendering for the lab's sites (Jinja2 templates beside this module, autoescaped)."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from launchready.lab.assets import SiteAssets
from launchready.lab.hosts import LabHosts


class Pages:
    def __init__(self, hosts: LabHosts, assets: SiteAssets) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("launchready.lab", "templates"),
            autoescape=True,
        )
        self._env.globals.update(hosts=hosts, assets=assets)

    def render(self, template: str, **context: Any) -> str:
        context.setdefault("member", None)
        return self._env.get_template(template).render(**context)

    def response(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        return web.Response(text=self.render(template, **context), status=status, content_type="text/html")

    def message(
        self,
        heading: str,
        text: str,
        *,
        status: int = 200,
        kind: str = "notice",
        link: tuple[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        """A one-paragraph page (confirmations, errors); ``link`` is (href, label)."""
        return self.response(
            "message.html.j2",
            status=status,
            heading=heading,
            text=text,
            kind=kind,
            link={"href": link[0], "label": link[1]} if link else None,
            **context,
        )
