"""Reading one YAML file of config/ and validating it into a pydantic model.

Every failure becomes a ConfigError whose message names the file, the key path and the problem,
e.g. ``config/topics.yaml: topics.dprk.terms[3]: empty term``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workers.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML would keep only the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a YAML syntax error is a ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:  # ValueError: undecodable bytes, or a NUL in a file name from settings
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


def key_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``topics.dprk.terms[3]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def validation_message(path: Path, err: ValidationError) -> str:
    """One line per problem, each naming the file and the key."""
    lines = []
    for e in err.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {key_path(tuple(e['loc']))}: {msg}")
    return "\n".join(lines)


def validate(model: type[M], data: Any, path: Path) -> M:
    """Validate parsed YAML into ``model``; raise ConfigError listing every problem with file and key."""
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(validation_message(path, err)) from None


def load(model: type[M], path: Path) -> M:
    """read_yaml + validate."""
    return validate(model, read_yaml(path), path)
