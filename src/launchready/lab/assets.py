"""The site's static assets, served under content-hashed names so they can be cached forever."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Immutable: the name changes whenever the content does, so a year-long cache is safe.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"

_CSS = """\
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f7f7fb; }
body { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
header nav a { margin-right: 1rem; }
form { display: grid; gap: .5rem; max-width: 24rem; }
input, textarea, button { font: inherit; padding: .4rem .6rem; }
.notice { background: #eef4ff; border-left: 4px solid #3060d0; padding: .5rem 1rem; }
.error { background: #fff0f0; border-left: 4px solid #c03030; padding: .5rem 1rem; }
"""

_JS = """\
// Progressive enhancement only: every page works without script.
document.documentElement.classList.add("js");
for (const form of document.querySelectorAll("form[data-once]")) {
  form.addEventListener("submit", () => {
    for (const button of form.querySelectorAll("button")) button.disabled = true;
  });
}
"""


@dataclass(frozen=True)
class Asset:
    path: str  # e.g. /static/app.3f2a9c1b0d4e.css
    content_type: str
    body: bytes

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def _hashed(stem: str, extension: str, content_type: str, text: str) -> Asset:
    body = text.encode()
    digest = hashlib.sha256(body).hexdigest()[:12]
    return Asset(f"/static/{stem}.{digest}.{extension}", content_type, body)


@dataclass(frozen=True)
class SiteAssets:
    css: Asset
    js: Asset

    @property
    def all(self) -> tuple[Asset, ...]:
        return (self.css, self.js)


def site_assets() -> SiteAssets:
    return SiteAssets(
        css=_hashed("app", "css", "text/css", _CSS),
        js=_hashed("app", "js", "text/javascript", _JS),
    )
