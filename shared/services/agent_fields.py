"""What a user says about an agent (name, description, tags), checked once for every route."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInputError

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 2000
MAX_TAGS = 20
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


@dataclass(frozen=True)
class AgentFields:
    """A checked name, description and tags; build it with `AgentFields.parse`."""

    name: str = "agent"
    description: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: Any, description: Any = None, tags: Any = None) -> AgentFields:
        """Check raw values (tags: a list or a comma-separated string); InvalidInputError."""
        return cls(_name(name), _description(description), _tags(tags))

    def to_document(self) -> dict[str, Any]:
        """The fields as the agent document stores them."""
        return {"name": self.name, "description": self.description, "tags": list(self.tags)}


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("name is required: a non-empty string")
    name = value.strip()
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise InvalidInputError(f"name must be printable and at most {MAX_NAME_CHARS} characters")
    return name


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError("description must be a string")
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidInputError(f"description is longer than {MAX_DESCRIPTION_CHARS} characters")
    return value.strip()


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    raw: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(raw, list | tuple) and not isinstance(value, str):
        raise InvalidInputError("tags must be a list of strings or a comma-separated string")
    tags: list[str] = []
    for given in raw:
        if not isinstance(given, str):
            raise InvalidInputError("tags must be strings")
        tag = given.strip()
        if not tag:
            continue
        if not _TAG.fullmatch(tag):
            raise InvalidInputError(
                f"tag {tag!r} must be 1-32 letters, digits, '_', '.' or '-' (starting alphanumeric)"
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInputError(f"at most {MAX_TAGS} tags")
    return tuple(tags)
