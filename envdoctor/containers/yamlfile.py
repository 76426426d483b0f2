"""YAML with line numbers (PyYAML's safe composer; see docs/dependencies.md).

:func:`load_all` returns plain dicts, lists and scalars where every dict is a
:class:`Mapping` that remembers the line of each of its keys. Anchors and ``<<`` merge
keys are followed; an alias is converted once, so a "billion laughs" file stays small.
"""

from __future__ import annotations

from typing import Any


class Mapping(dict):
    """A dict that knows where it and each key are (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlError(Exception):
    pass


def load_all(text: str) -> list[Any]:
    import yaml

    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise YamlError(str(exc).replace("\n", " ")) from None
    seen: dict[int, Any] = {}
    return [_convert(n, seen, 0) for n in nodes if n is not None]


def _convert(node: Any, seen: dict[int, Any], depth: int) -> Any:
    import yaml

    if depth > 200:
        raise YamlError("nested too deeply")
    if id(node) in seen:
        return seen[id(node)]
    if isinstance(node, yaml.MappingNode):
        out = Mapping()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        seen[id(node)] = out
        merges = []
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key == "<<":
                merges.append(value_node)
                continue
            out[key] = _convert(value_node, seen, depth + 1)
            out.key_lines[key] = key_node.start_mark.line + 1
        for merged in merges:
            sources = merged.value if isinstance(merged, yaml.SequenceNode) else [merged]
            for source in sources:
                value = _convert(source, seen, depth + 1)
                if isinstance(value, Mapping):
                    for key, item in value.items():
                        if key not in out:
                            out[key] = item
                            out.key_lines[key] = value.line_of(key)
        return out
    if isinstance(node, yaml.SequenceNode):
        out_list: list[Any] = []
        seen[id(node)] = out_list
        out_list.extend(_convert(n, seen, depth + 1) for n in node.value)
        return out_list
    return node.value if isinstance(node, yaml.ScalarNode) else None
