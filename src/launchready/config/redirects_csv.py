"""A redirect map kept as a CSV file (columns old,new[,status]), as exported from a spreadsheet.

``redirects = "redirects.csv"`` in the config names it. A first row of column names is optional
(and then may order the columns freely); blank rows and rows starting with '#' are skipped.
Errors name the CSV file and its line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from launchready.config.errors import ConfigError, ConfigProblem
from launchready.config.messages import describe
from launchready.config.model import RedirectEntry

_COLUMNS = ("old", "new", "status")


def read_redirects_csv(path: Path, shown_as: str) -> tuple[RedirectEntry, ...]:
    """Entries in file order; ``shown_as`` is the name errors and each entry's ``source`` use.

    Raises ConfigError naming ``shown_as:LINE`` for every row that is not a valid redirect.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError.single(shown_as, None, "", "not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError.single(shown_as, None, "", f"cannot read: {exc.strerror or exc}") from None

    entries: list[RedirectEntry] = []
    problems: list[ConfigProblem] = []
    columns: tuple[str, ...] = _COLUMNS
    reader = csv.reader(io.StringIO(text, newline=""))
    first = True
    while True:
        line = reader.line_num + 1  # a quoted cell may span lines; the row starts on this one
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(ConfigProblem(shown_as, line, "", f"invalid CSV: {exc}"))
            break
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if first:
            first = False
            # Data cells are paths, URLs or numbers, never a column name: such a row is a header.
            if any(cell.lower() in _COLUMNS for cell in cells):
                header = tuple(cell.lower() for cell in cells)
                bad = [c for c in header if c not in _COLUMNS]
                if bad or "new" not in header or len(set(header)) != len(header):
                    problems.append(
                        ConfigProblem(shown_as, line, "", f"expected columns old,new[,status], got {','.join(cells)}")
                    )
                    break
                columns = header
                continue
        if len(cells) > len(columns):
            expected = f"expected at most {len(columns)} columns ({','.join(columns)}), got {len(cells)}"
            problems.append(ConfigProblem(shown_as, line, "", expected))
            continue
        raw: dict[str, object] = {}
        # Fewer cells than columns is fine: status is optional.
        for name, cell in zip(columns, cells, strict=False):
            if cell == "":
                continue
            raw[name] = _int_or_text(cell) if name == "status" else cell
        try:
            entries.append(RedirectEntry.model_validate({**raw, "source": f"{shown_as}:{line}"}))
        except ValidationError as exc:
            for error in exc.errors():
                key, message = describe(error)
                problems.append(ConfigProblem(shown_as, line, ".".join(str(k) for k in key), message))
    if problems:
        raise ConfigError.of(problems)
    return tuple(entries)


def _int_or_text(cell: str) -> int | str:
    # CSV has no types: a status that reads as a whole number is one; anything else stays text
    # so the error shows what was written.
    try:
        return int(cell)
    except ValueError:
        return cell
