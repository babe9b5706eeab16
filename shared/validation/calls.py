"""The call rules of the walk: getattr and friends, type(), super(), attrgetter, writers."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, cast

from shared.validation import policy
from shared.validation.facts import VALUE, SourceFacts
from shared.validation.report import Code
from shared.validation.strings import is_dunder

if TYPE_CHECKING:
    from shared.validation.report import Finding

_FORMAT_RECEIVERS = (ast.Constant, ast.Name, ast.Attribute)


class CallRules:
    """Mixed into RuleWalker: the handler for ast.Call nodes."""

    candidates: frozenset[str]
    facts: SourceFacts
    findings: list[Finding]
    _checked: set[int]
    _lookups: set[int]

    def _add(self, code: Code, message: str, node: ast.AST) -> None:
        raise NotImplementedError

    def _check_attribute_name(self, attr: str, node: ast.AST, what: str) -> bool:
        raise NotImplementedError

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if type(func) is ast.Name:
            name = func.id
            if name in policy.ATTRIBUTE_BUILTINS:
                self._checked.add(id(func))
                self._attribute_builtin(name, node)
            elif name == "type":
                self._checked.add(id(func))
                if len(node.args) != 1 or node.keywords or type(node.args[0]) is ast.Starred:
                    self._add(Code.DYNAMIC_TYPE, "type() with three arguments creates classes dynamically", node)
            elif name == "super":
                if node.args and type(node.args[0]) is ast.Attribute and node.args[0].attr == "__class__":
                    self._checked.add(id(node.args[0]))  # super(self.__class__, self)
            elif name in policy.NAME_RESOLVERS:
                self._checked.add(id(func))
                self._name_resolver(name, node)
        elif type(func) is ast.Attribute:
            attr = func.attr
            if attr in policy.PATH_WRITERS:
                self._checked.add(id(func))
                if _has_path(node):
                    self._add(Code.FORBIDDEN_IO, f"'.{attr}' with a path writes a file; call it without "
                              f"one to get text ({policy.NO_FILES})", func)
            elif attr in policy.NAME_RESOLVERS:
                self._checked.add(id(func))
                self._name_resolver(attr, node)
            elif (
                attr in ("format", "format_map") and type(func.value) is ast.Name and func.value.id == "str"
                and node.args and not isinstance(node.args[0], _FORMAT_RECEIVERS)
            ):
                self._add(Code.DYNAMIC_FORMAT, f"str.{attr}() is only allowed on a string literal or a "
                          "variable (format fields can read attributes)", node)

    def _attribute_builtin(self, name: str, node: ast.Call) -> None:
        args = node.args
        if len(args) < 2 or any(type(a) is ast.Starred for a in args[:2]):
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name}() needs an object and a literal attribute name", node)
            return
        target, attr = args[0], args[1]
        on_self = type(target) is ast.Name and target.id in policy.OWN_RECEIVERS
        if name in policy.MUTATING_ATTRIBUTE_BUILTINS and not on_self:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name}() is only allowed on self", node)
            return
        if type(attr) is ast.Constant and isinstance(attr.value, str):
            literal = attr.value
            if not self._check_attribute_name(literal, node, f"{name}() of {literal!r}"):
                self._record_lookup(target, literal, attr, record=False)
                return
            if literal.startswith("_") and not is_dunder(literal):
                if on_self:
                    if name in policy.MUTATING_ATTRIBUTE_BUILTINS:
                        self.facts.private_defs.add(literal)
                elif literal not in policy.PUBLIC_UNDERSCORE_ATTRIBUTES:
                    self.facts.private_uses.append((literal, attr.lineno, attr.col_offset + 1))
            self._record_lookup(target, literal, attr)
        elif not (on_self and _safe_fstring(attr)):
            self._add(
                Code.DYNAMIC_ATTRIBUTE,
                f"{name}() needs a literal attribute name (or an f-string starting with a letter on self)",
                node,
            )

    def _record_lookup(self, target: ast.expr, literal: str, at: ast.Constant, record: bool = True) -> None:
        # getattr(np, "load") is np.load: record the whole chain for the module rules (the
        # target itself is then not a module used as a value).
        nodes: list[ast.Attribute] = []
        base = target
        while type(base) is ast.Attribute:
            nodes.append(base)
            base = base.value
        if type(base) is not ast.Name or base.id not in self.candidates:
            return
        self._lookups.add(id(target))
        if not record:
            return
        positions = [(base.lineno, base.col_offset + 1)]
        positions.extend((n.end_lineno or n.lineno, (n.end_col_offset or 0) - len(n.attr) + 1) for n in reversed(nodes))
        positions.append((at.lineno, at.col_offset + 1))
        attrs = (*(n.attr for n in reversed(nodes)), literal)
        self.facts.chains.append((base.id, attrs, tuple(positions), VALUE))

    def _name_resolver(self, name: str, node: ast.Call) -> None:
        # attrgetter("a.b") and methodcaller("m", ...) resolve their first string(s) as names.
        names = node.args if name == "attrgetter" else node.args[:1]
        if not names or node.keywords and name == "attrgetter" or any(
            type(a) is not ast.Constant or not isinstance(a.value, str) for a in names
        ):
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name}() needs literal attribute names", node)
            return
        for arg in cast(list[ast.Constant], names):  # every one a string constant, checked above
            for part in str(arg.value).split("."):
                if is_dunder(part):
                    self._add(Code.DUNDER_ATTRIBUTE,
                              f"{name}() of {part!r}: dunder attributes reach interpreter internals", arg)
                elif part.startswith("_"):
                    self._add(Code.PRIVATE_ATTRIBUTE, f"{name}() of {part!r}: private attributes are not allowed", arg)
                else:
                    self._check_attribute_name(part, arg, f"{name}() of {part!r}")


def _has_path(node: ast.Call) -> bool:
    if node.args and not (type(node.args[0]) is ast.Constant and node.args[0].value is None):
        return True
    return any(
        kw.arg is None
        or (kw.arg in policy.PATH_KEYWORDS and not (type(kw.value) is ast.Constant and kw.value.value is None))
        for kw in node.keywords
    )


def _safe_fstring(node: ast.AST) -> bool:
    # An f-string whose first piece is literal text starting with a letter can never produce a
    # dunder or frame attribute name, whatever is interpolated after it.
    if type(node) is not ast.JoinedStr or not node.values:
        return False
    first = node.values[0]
    return (
        type(first) is ast.Constant
        and isinstance(first.value, str)
        and first.value[:1].isalpha()
    )
