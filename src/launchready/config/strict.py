"""The base of every config table: unknown keys are errors, loaded values never change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    # extra="forbid" is what turns a typo into "unknown key 'subdomain' (did you mean ...)".
    model_config = ConfigDict(extra="forbid", frozen=True)
