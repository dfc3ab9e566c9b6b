"""Config errors: each names the file, the line, the key and what was expected, on one line."""

from __future__ import annotations

from dataclasses import dataclass


def _one_line(text: str) -> str:
    # The CLI prints str(exc) as a single line; a newline from a TOML value must not break that.
    return " ".join(text.split())


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file; ``line`` is None when the file itself is the problem."""

    file: str
    line: int | None
    key: str  # dotted key path ("environments.production.base_url"), "" for the file or document
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where, self.key, self.message] if self.key else [where, self.message]
        return _one_line(": ".join(parts))


class ConfigError(Exception):
    """A config file that cannot be used. ``str(exc)`` is one line; ``problems`` holds them all.

    The config's error root: the CLI prints the line and exits with code 2.
    """

    def __init__(self, message: str, problems: tuple[ConfigProblem, ...] = ()) -> None:
        super().__init__(_one_line(message))
        self.problems = problems

    @classmethod
    def of(cls, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]) -> ConfigError:
        """The first problem by line (ties keep their order), with a count of the rest."""
        if not problems:
            raise ValueError("ConfigError.of needs at least one problem")
        ordered = tuple(sorted(problems, key=lambda p: p.line or 0))
        message = str(ordered[0])
        if len(ordered) > 1:
            message += f" (+{len(ordered) - 1} more)"
        return cls(message, ordered)

    @classmethod
    def single(cls, file: str, line: int | None, key: str, message: str) -> ConfigError:
        return cls.of([ConfigProblem(file, line, key, message)])
