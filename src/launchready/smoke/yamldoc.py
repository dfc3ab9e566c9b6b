"""YAML with line numbers: PyYAML's composed nodes turned into plain values that remember lines.

Mappings become :class:`LMap` (a dict with ``line`` and ``key_lines``), sequences :class:`LSeq`
(a list with ``line`` and ``item_lines``); scalars keep their YAML types and their line is read
from the parent. Duplicate keys are errors (YAML allows them silently; a flow would lose a step).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class LMap(dict[str, Any]):
    line: int = 1
    key_lines: dict[str, int]


class LSeq(list[Any]):
    line: int = 1
    item_lines: list[int]


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


# A flow file is a few hundred values; aliases may not multiply them ("billion laughs") nor nest
# without end (an alias inside the node it names).
MAX_NODES = 100_000
MAX_DEPTH = 64


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0
        self.open: set[int] = set()  # ids of the nodes being converted: an alias back to one is a loop

    def enter(self, node: Node) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlError(_line(node), f"more than {MAX_NODES} values once aliases are expanded (alias bomb?)")
        if id(node) in self.open:
            raise YamlError(_line(node), "an alias refers to a node that contains it (recursive alias)")
        if len(self.open) >= MAX_DEPTH:
            raise YamlError(_line(node), f"nested more than {MAX_DEPTH} levels deep")
        self.open.add(id(node))


def load_located(text: str) -> Any:
    try:
        # The reader refuses control characters (a NUL) as it is built: inside the try.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        line = text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
        raise YamlError(line, "YAML syntax error: " + " ".join(str(exc).split())) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(loader, node, _Budget())
    except RecursionError:
        raise YamlError(1, "YAML nested too deeply (or a recursive merge key)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, "YAML syntax error: " + " ".join(str(exc).split())) from None
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: Node, budget: _Budget) -> Any:
    budget.enter(node)
    try:
        return _convert_node(loader, node, budget)
    finally:
        budget.open.discard(id(node))


def _convert_node(loader: yaml.SafeLoader, node: Node, budget: _Budget) -> Any:
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        out = LMap()
        out.line = _line(node)
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                raise YamlError(_line(key_node), "a mapping key must be a plain value")
            key_text = str(key)
            if key_text in out:
                raise YamlError(
                    _line(key_node), f"duplicate key {key_text!r} (first at line {out.key_lines[key_text]})"
                )
            out.key_lines[key_text] = _line(key_node)
            out[key_text] = _convert(loader, value_node, budget)
        return out
    if isinstance(node, SequenceNode):
        seq = LSeq()
        seq.line = _line(node)
        seq.item_lines = []
        for item in node.value:
            seq.item_lines.append(_line(item))
            seq.append(_convert(loader, item, budget))
        return seq
    if isinstance(node, ScalarNode):
        value = loader.construct_object(node, deep=True)
        # Flow values become JSON bodies and compare with JSON answers: only JSON's own types.
        if isinstance(value, bytes):
            raise YamlError(_line(node), "!!binary values are not supported: write the text (or base64) as a string")
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value
    raise YamlError(_line(node), f"unsupported YAML node {type(node).__name__}")


def line_at(document: Any, path: Sequence[str | int], default: int = 1) -> int:
    """The line of the deepest key or item on ``path`` that the document has (``[key]`` steps, as
    pydantic writes for a mapping's key, stay on the key's line)."""
    line = document.line if isinstance(document, (LMap, LSeq)) else default
    current = document
    for part in path:
        if part == "[key]":
            continue
        if isinstance(current, LMap) and str(part) in current:
            line, current = current.key_lines[str(part)], current[str(part)]
        elif isinstance(current, LSeq) and isinstance(part, int) and 0 <= part < len(current):
            line, current = current.item_lines[part], current[part]
        else:
            break
    return line
