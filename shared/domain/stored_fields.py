"""Dataclass aggregates over documents: the modelled fields typed, every other field kept as stored.

An aggregate dataclass declares the fields its rules read, plus `extra` (the stored fields it
does not model) and `absent` (modelled fields the stored document did not hold). A document
written by an older or newer version then survives `from_document` -> `to_document` unchanged,
and a save writes only what a method changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, fields
from enum import Enum
from typing import Any

NOT_STORED = frozenset({"extra", "absent"})


def split_document(
    aggregate_type: type, document: Mapping[str, Any], *, not_stored: frozenset[str] = NOT_STORED
) -> tuple[dict[str, Any], dict[str, Any], frozenset[str]]:
    """(modelled values, unknown fields, modelled fields missing) of a stored document."""
    modelled = {f.name for f in fields(aggregate_type)} - not_stored
    values = {key: value for key, value in document.items() if key in modelled}
    extra = {key: value for key, value in document.items() if key not in modelled}
    return values, extra, frozenset(modelled - set(document))


def join_document(aggregate: Any, *, not_stored: frozenset[str] = NOT_STORED) -> dict[str, Any]:
    """The document of `aggregate`: unknown fields kept, missing ones left out while at their default."""
    document = dict(aggregate.extra)
    for f in fields(aggregate):
        if f.name in not_stored:
            continue
        value = getattr(aggregate, f.name)
        if f.name in aggregate.absent and value == _default(f):
            continue
        document[f.name] = value.value if isinstance(value, Enum) else value
    return document


def _default(f: Field[Any]) -> Any:
    return f.default_factory() if f.default_factory is not MISSING else f.default
