"""``[web]``: the crawl's bounds and the pages that matter most (crawled first, always)."""

from __future__ import annotations

from pydantic import Field, field_validator

from launchready.config.strict import StrictModel


class WebConfig(StrictModel):
    key_pages: tuple[str, ...] = Field(
        default=(), description="Paths crawled besides the home page, e.g. /pricing, /signup."
    )
    crawl_max_pages: int = Field(default=200, ge=1, le=5000, strict=True, description="Requests per host crawl.")
    crawl_depth: int = Field(default=3, ge=0, le=10, strict=True, description="Link levels from the start pages.")
    crawl_rate: float = Field(default=10.0, gt=0, le=200, strict=True, description="Requests per second, at most.")
    admin_paths: tuple[str, ...] = Field(
        default=("/admin", "/admin/", "/wp-admin/", "/dashboard/admin"),
        description="Paths probed for an admin area open without sign-in.",
    )
    lab_edge: bool = Field(
        default=False,
        strict=True,
        description="Count the launchready lab's emulated CDN header as an edge; only the lab's own config sets it.",
    )

    @field_validator("key_pages", "admin_paths")
    @classmethod
    def _paths(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not value.startswith("/"):
                raise ValueError(f"expected a path starting with '/', got {value!r}")
        return tuple(dict.fromkeys(values))
