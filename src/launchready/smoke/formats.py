"""The smoke command's report formats, apart from the renderers so the CLI can name them cheaply."""

from __future__ import annotations

from enum import Enum


class SmokeFormat(str, Enum):
    TERMINAL = "terminal"
    JSON = "json"
    JUNIT = "junit"
    MD = "md"
