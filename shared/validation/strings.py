"""Rules about what strings can make Python do: format fields and string annotations."""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # str.format's C field parser (no stub); no regexes needed
import ast
from collections.abc import Iterator
from string import Formatter

from shared.validation import policy

_FORMATTER = Formatter()
# What a string annotation may contain: type expressions, never a call or a lambda.
_TYPE_NODES = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List,
               ast.Constant, ast.BinOp, ast.BitOr, ast.Load, ast.Slice)


def is_dunder(name: str) -> bool:
    """True for `__x__` names."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def check_format_fields(text: str, depth: int = 0) -> list[tuple[str, str]]:
    """Return (field, attribute) for each format field of `text` reading an internal attribute."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError:
        return []  # not a valid format string, so .format() cannot use it
    found: list[tuple[str, str]] = []
    for _, field_name, spec, _ in parsed:
        if field_name:
            try:
                _, rest = _string.formatter_field_name_split(field_name)
                parts = [key for is_attr, key in rest if is_attr]
            except ValueError:
                parts = []
            found.extend(
                (field_name, part) for part in parts
                if (part.startswith("_") and part not in policy.PUBLIC_UNDERSCORE_ATTRIBUTES)
                or part in policy.FORBIDDEN_ATTRIBUTES
            )
        if spec and "{" in spec and depth < 2:
            found.extend(check_format_fields(spec, depth + 1))
    return found


def check_annotation(annotation: ast.expr) -> Iterator[tuple[str, ast.AST]]:
    """Yield (text, node) for every string in `annotation` that is more than a type name."""
    for node in ast.walk(annotation):
        if type(node) is ast.Constant and type(node.value) is str and not _names_a_type(node.value):
            yield node.value, node


def _names_a_type(text: str) -> bool:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # never evaluates to anything: get_type_hints raises SyntaxError
    for node in ast.walk(tree):
        if not isinstance(node, _TYPE_NODES) or (type(node) is ast.BinOp and type(node.op) is not ast.BitOr):
            return False
        name = node.id if type(node) is ast.Name else node.attr if type(node) is ast.Attribute else ""
        if name.startswith("_"):
            return False
    return True
