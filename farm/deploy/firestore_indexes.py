"""Derive the Firestore composite indexes from the document queries the services make.

Firestore answers equality-only queries from its automatic single-field indexes; a query that
mixes equality filters with a range filter or an order on another field needs a composite
index. This reads every `<store>.query(COLLECTION, where, order_by=...)` call in the code (an
AST pass, so formatting does not matter) together with the `Filter(field, op, value)` literals
of the enclosing function, and names the index each one needs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from shared.schemas import collections

RANGE_OPS = frozenset({"<", "<=", ">", ">=", "!="})
EQUALITY_OPS = frozenset({"==", "in", "array_contains"})
SCANNED = ("shared/services", "shared/leaderboard", "shared/fmel", "functions", "runtime", "ingester", "jobs")


@dataclass(frozen=True, order=True)
class CompositeIndex:
    """One composite index: a collection and its ordered (field, order) pairs."""

    collection: str
    fields: tuple[tuple[str, str], ...]  # (field_path, "ASCENDING" | "DESCENDING")

    @property
    def key(self) -> str:
        """A stable identifier, e.g. "agents--owner_uid-asc--created_at-desc"."""
        parts = [f"{f.replace('.', '_')}-{o[:3].lower()}" for f, o in self.fields]
        return "--".join([self.collection, *parts])


class UnderivableQuery(ValueError):
    """A query whose collection, filters or order cannot be read from literals."""


def derive(root: Path, packages: Iterable[str] = SCANNED) -> list[CompositeIndex]:
    """Every composite index the document queries under `root`'s `packages` need, sorted."""
    found: set[CompositeIndex] = set()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found.update(_indexes_in(path, root))
    return sorted(found)


def _indexes_in(path: Path, root: Path) -> set[CompositeIndex]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out: set[CompositeIndex] = set()
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        filters = [f for f in (_filter(n) for n in ast.walk(func)) if f]
        for call in ast.walk(func):
            if _is_document_query(call):
                where = f"{path.relative_to(root)}:{call.lineno}"
                index = _index_for(call, filters, where)
                if index:
                    out.add(index)
    return out


def _is_document_query(node: ast.AST) -> TypeGuard[ast.Call]:
    # A document query names a collection constant first; warehouse queries pass SQL text.
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "query"
        and bool(node.args)
        and isinstance(node.args[0], ast.Name | ast.Constant)
        and _collection(node.args[0]) is not None
    )


def _collection(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and node.value in collections.COLLECTIONS:
        return node.value
    if isinstance(node, ast.Name):
        value = getattr(collections, node.id, None)
        return value if value in collections.COLLECTIONS else None
    return None


def _filter(node: ast.AST) -> tuple[str, str] | None:
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Filter" and len(node.args) >= 2:
        field, op = node.args[0], node.args[1]
        if isinstance(field, ast.Constant) and isinstance(op, ast.Constant):
            return str(field.value), str(op.value)
        raise UnderivableQuery(f"Filter at line {node.lineno} must use literal field and operator")
    return None


def _index_for(call: ast.Call, filters: list[tuple[str, str]], where: str) -> CompositeIndex | None:
    collection = _collection(call.args[0])
    assert collection is not None
    keywords = {k.arg: k.value for k in call.keywords}
    order_by, descending = keywords.get("order_by"), keywords.get("descending")
    if order_by is not None and not isinstance(order_by, ast.Constant):
        raise UnderivableQuery(f"{where}: order_by must be a literal field name")
    if descending is not None and not isinstance(descending, ast.Constant):
        raise UnderivableQuery(f"{where}: descending must be a literal")
    equality = sorted({f for f, op in filters if op in EQUALITY_OPS})
    ranged = sorted({f for f, op in filters if op in RANGE_OPS})
    if len(ranged) > 1:
        raise UnderivableQuery(f"{where}: range filters on several fields {ranged}")
    order_field = str(order_by.value) if order_by is not None else (ranged[0] if ranged else None)
    if order_field is None or not [f for f in equality if f != order_field]:
        return None  # served by single-field indexes
    direction = "DESCENDING" if descending is not None and descending.value else "ASCENDING"
    fields = [(f, "ASCENDING") for f in equality if f != order_field] + [(order_field, direction)]
    return CompositeIndex(collection, tuple(fields))
