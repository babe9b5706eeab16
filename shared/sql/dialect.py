"""Translate BigQuery Standard SQL with `@name` parameters into DuckDB SQL with `$name`.

Queries are written once, in BigQuery's dialect. The local warehouse runs them on DuckDB, so
they are transpiled with sqlglot and their parameters become DuckDB named parameters, which
are bound, never interpolated. Translations are cached because the platform runs the same
few query texts over and over.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from shared.errors import InvalidInputError


@dataclass(frozen=True)
class Translation:
    """A DuckDB query and the names of the parameters it expects."""

    sql: str
    params: frozenset[str]


@lru_cache(maxsize=512)
def to_duckdb(sql: str) -> Translation:
    """Transpile one BigQuery statement to DuckDB, turning `@name` into `$name`."""
    try:
        parsed = sqlglot.parse(sql, read="bigquery")
    except ParseError as exc:
        raise InvalidInputError(f"cannot parse BigQuery SQL: {exc}") from exc
    statements = [s for s in parsed if s is not None]
    if len(statements) != 1:
        raise InvalidInputError(f"expected exactly one SQL statement, got {len(statements)}")
    tree = statements[0]
    names: set[str] = set()
    for node in list(tree.find_all(exp.Parameter)):
        name = node.name
        if not name or not name.isidentifier():
            raise InvalidInputError(f"unsupported query parameter {node.sql('bigquery')!r}")
        names.add(name)
        node.replace(exp.Placeholder(this=name))
    if any(isinstance(p, exp.Placeholder) and not p.name for p in tree.find_all(exp.Placeholder)):
        raise InvalidInputError("positional `?` parameters are not supported; use @name")
    return Translation(tree.sql(dialect="duckdb"), frozenset(names))


def check_params(translation: Translation, params: dict[str, object]) -> None:
    """Raise InvalidInputError when the query and the given parameters disagree."""
    missing = sorted(translation.params - params.keys())
    if missing:
        raise InvalidInputError(f"query parameter(s) not given: {', '.join('@' + m for m in missing)}")
    unused = sorted(params.keys() - translation.params)
    if unused:
        raise InvalidInputError(f"parameter(s) not used by the query: {', '.join('@' + u for u in unused)}")
