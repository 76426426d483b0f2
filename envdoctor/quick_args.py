"""Parse a plain ``envdoctor check ...`` command line without building typer's command.

typer 0.28 and newer validate every option through a pydantic ``TypeAdapter`` built
when the command runs: importing pydantic and building the adapters costs ~90 ms, more
than the whole rest of ``envdoctor check --json`` (docs/dependencies.md). The check
command is what people and CI run most, so :func:`parse` reads its options straight from
the typer declarations of :func:`envdoctor.cli.check` (the one definition: names, flags,
types, callbacks) and returns the keyword arguments to call it with.

It understands only the plain forms: ``--flag``, ``--opt VALUE``, ``--opt=VALUE``,
``-o VALUE``, repeated list options, enum choices, numbers. Anything else (``--help``,
an unknown option, a bad value, a stray argument, a declaration feature it does not
know) returns None and typer parses the line as before, with its own messages. So the
quick path can make a run faster, never different.
"""

from __future__ import annotations

import enum
import inspect
import typing
from typing import Any, Callable, Optional

_SCALARS = (str, int, float)


class _Option:
    """One typer option of the command, as the quick parser needs it."""

    def __init__(self, name: str, kind: type, many: bool, default: Any,
                 callback: Optional[Callable[[Any], Any]]) -> None:
        self.name, self.kind, self.many = name, kind, many
        self.default, self.callback = default, callback

    @property
    def is_flag(self) -> bool:
        return self.kind is bool and not self.many

    def convert(self, text: str) -> Any:
        if issubclass(self.kind, enum.Enum):
            return self.kind(text)  # ValueError for a value that is not a choice
        return self.kind(text)


def _unwrap_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return args[0]
    return annotation


def _options(func: Callable[..., Any]) -> Optional[dict[str, _Option]]:
    """Every spelling of every option of ``func`` (``--json``, ``-f``), or None when a
    parameter uses something this parser does not handle."""
    import typer.models

    try:
        hints = typing.get_type_hints(func, include_extras=True)
        params = inspect.signature(func).parameters
    except (NameError, TypeError, ValueError):
        return None
    table: dict[str, _Option] = {}
    for name, param in params.items():
        annotation = hints.get(name)
        if typing.get_origin(annotation) is typing.Union:
            # Python < 3.11 wraps a None default's hint in Optional[...] itself.
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = inner[0] if len(inner) == 1 else annotation
        if typing.get_origin(annotation) is not typing.Annotated:
            return None
        base, *meta = typing.get_args(annotation)
        info = next((m for m in meta if isinstance(m, typer.models.OptionInfo)), None)
        if info is None or getattr(info, "envvar", None) or getattr(info, "prompt", False) \
                or getattr(info, "is_eager", False) or param.default is inspect.Parameter.empty:
            return None
        base = _unwrap_optional(base)
        many = typing.get_origin(base) is list
        kind = typing.get_args(base)[0] if many else base
        if not (kind is bool or kind in _SCALARS or
                (isinstance(kind, type) and issubclass(kind, enum.Enum))):
            return None
        callback = info.callback
        if callback is not None and len(inspect.signature(callback).parameters) != 1:
            return None
        # In Annotated, typer reads Option's first positional ("default") as the first
        # name: Option("--format", "-f").
        first = [] if info.default is ... else [info.default]
        decls = [d for d in [*first, *(info.param_decls or ())] if isinstance(d, str)]
        if not decls or any("/" in d or not d.startswith("-") for d in decls):
            return None
        option = _Option(name, kind, many, param.default, callback)
        for decl in decls:
            table[decl] = option
    return table


def parse(func: Callable[..., Any], args: list[str]) -> Optional[dict[str, Any]]:
    """Keyword arguments to call the typer command ``func`` with for ``args``, or None
    to let typer parse them (help, errors, anything unusual)."""
    table = _options(func)
    if table is None:
        return None
    values: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--" or not word.startswith("-") or word in ("-", "-h", "--help"):
            return None
        key, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        option = table.get(key)
        if option is None:
            return None
        if option.is_flag:
            if eq:
                return None
            values[option.name] = True
            continue
        if eq:
            text = inline
        elif i < len(args):
            text, i = args[i], i + 1
        else:
            return None  # typer says "requires an argument"
        try:
            value = option.convert(text)
        except (ValueError, TypeError):
            return None
        if option.many:
            lists.setdefault(option.name, []).append(value)
        else:
            values[option.name] = value
    values.update(lists)
    options = {o.name: o for o in table.values()}
    kwargs: dict[str, Any] = {}
    for name, option in options.items():
        value = values.get(name, option.default)
        if option.callback is not None:
            try:
                value = option.callback(value)
            except Exception:  # typer.BadParameter & co: typer words the error
                return None
        kwargs[name] = value
    return kwargs
