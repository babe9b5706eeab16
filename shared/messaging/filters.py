"""Pub/Sub subscription filters: parse the filter language once, evaluate it per message.

Grammar (https://cloud.google.com/pubsub/docs/subscription-message-filter):

    expr      := term (AND term)* | term (OR term)*      -- mixing needs parentheses
    term      := (NOT | "-") term | "(" expr ")" | predicate
    predicate := attributes.KEY ("=" | "!=") STRING
               | attributes:KEY
               | hasPrefix(attributes.KEY, STRING)

KEY is an identifier or a quoted string. Both bus adapters use this module: the embedded bus
applies filters at publish time and the Pub/Sub adapter re-applies them on pull, because the
emulator accepts filters without applying them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from shared.errors import InvalidInputError

Attributes = Mapping[str, str]
Predicate = Callable[[Attributes], bool]

MAX_FILTER_LENGTH = 256  # Pub/Sub rejects longer filters

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op>!=|=|:|\(|\)|,|\.|-)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "string" | "op" | "word" | "end"
    text: str
    pos: int


@dataclass(frozen=True)
class MessageFilter:
    """A parsed filter; call `matches(attributes)` to test one message."""

    text: str
    matches: Predicate

    def __call__(self, attributes: Attributes) -> bool:
        return self.matches(attributes)


def _always(_: Attributes) -> bool:
    return True


@lru_cache(maxsize=1024)
def parse_filter(text: str | None) -> MessageFilter:
    """Parse `text`; an empty or missing filter matches everything.

    Raises InvalidInputError naming the position of the first problem.
    """
    if text is None or not text.strip():
        return MessageFilter(text or "", _always)
    if len(text.encode()) > MAX_FILTER_LENGTH:
        raise InvalidInputError(f"filter is longer than {MAX_FILTER_LENGTH} bytes")
    parser = _Parser(text)
    predicate = parser.expression()
    parser.expect_end()
    return MessageFilter(text, predicate)


def matches(text: str | None, attributes: Attributes) -> bool:
    """Tell whether a message with `attributes` passes filter `text`."""
    return parse_filter(text).matches(attributes)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if not found:
            problem = "unterminated string" if text[pos] == '"' else f"unexpected {text[pos]!r}"
            raise InvalidInputError(
                f"invalid filter: {problem} at position {pos}",
                details={"position": pos},
            )
        kind = found.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, found.group(), pos))
        pos = found.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; each method returns a compiled predicate."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, token: _Token | None = None) -> InvalidInputError:
        token = token or self.current
        found = "end of filter" if token.kind == "end" else repr(token.text)
        return InvalidInputError(
            f"invalid filter: expected {expected} at position {token.pos}, found {found}",
            details={"position": token.pos, "filter": self.text},
        )

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            raise self.fail(repr(text) if text else kind)
        return self.advance()

    def expect_end(self) -> None:
        if self.current.kind != "end":
            raise self.fail("AND, OR or end of filter")

    def expression(self) -> Predicate:
        terms = [self.term()]
        joiner: str | None = None
        while self.current.kind == "word" and self.current.text in ("AND", "OR"):
            token = self.advance()
            if joiner and token.text != joiner:
                raise InvalidInputError(
                    f"invalid filter: {joiner} and {token.text} mixed without parentheses "
                    f"at position {token.pos}",
                    details={"position": token.pos, "filter": self.text},
                )
            joiner = token.text
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        parts = tuple(terms)
        if joiner == "AND":
            return lambda attrs: all(part(attrs) for part in parts)
        return lambda attrs: any(part(attrs) for part in parts)

    def term(self) -> Predicate:
        token = self.current
        if (token.kind == "word" and token.text == "NOT") or (token.kind, token.text) == (
            "op",
            "-",
        ):
            self.advance()
            inner = self.term()
            return lambda attrs: not inner(attrs)
        if (token.kind, token.text) == ("op", "("):
            self.advance()
            inner = self.expression()
            self.expect("op", ")")
            return inner
        if token.kind == "word" and token.text == "hasPrefix":
            return self.has_prefix()
        if token.kind == "word" and token.text == "attributes":
            return self.attribute_predicate()
        raise self.fail("`attributes`, `hasPrefix(`, NOT or `(`")

    def key(self) -> str:
        token = self.current
        if token.kind == "word" and token.text not in _KEYWORDS:
            return self.advance().text
        if token.kind == "string":
            return _unquote(self.advance())
        raise self.fail("an attribute name")

    def string(self) -> str:
        token = self.current
        if token.kind != "string":
            raise self.fail("a double-quoted string")
        return _unquote(self.advance())

    def attribute_predicate(self) -> Predicate:
        self.expect("word", "attributes")
        if (self.current.kind, self.current.text) == ("op", ":"):
            self.advance()
            key = self.key()
            return lambda attrs: key in attrs
        self.expect("op", ".")
        key = self.key()
        operator = self.current
        if operator.kind != "op" or operator.text not in ("=", "!="):
            raise self.fail("`=` or `!=`")
        self.advance()
        value = self.string()
        if operator.text == "=":
            return lambda attrs: attrs.get(key) == value
        return lambda attrs: attrs.get(key) != value

    def has_prefix(self) -> Predicate:
        self.expect("word", "hasPrefix")
        self.expect("op", "(")
        self.expect("word", "attributes")
        self.expect("op", ".")
        key = self.key()
        self.expect("op", ",")
        prefix = self.string()
        self.expect("op", ")")

        def predicate(attrs: Attributes) -> bool:
            value = attrs.get(key)
            return value is not None and value.startswith(prefix)

        return predicate


def _unquote(token: _Token) -> str:
    body = token.text[1:-1]
    # Only \" and \\ need escaping inside a filter string; keep other characters verbatim.
    return re.sub(r"\\(.)", r"\1", body)
