"""The single walk over a module's syntax tree: imports, names, calls, attributes, strings.

Each node is visited once with no recursion (a deep tree cannot overflow the stack), and each
rule is a dictionary dispatch plus set look-ups, so the pass is linear in the size of the tree.
An attribute chain (`a.b.c`) is handled as one unit at its outermost node. Rules that need the
whole file or bundle (module attributes, private attributes) are recorded in `facts` and judged
by `bundle_rules` afterwards.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from shared.validation import policy
from shared.validation.calls import CallRules
from shared.validation.definition_rules import DefinitionRules
from shared.validation.facts import LOOKUP, STORE, VALUE, SourceFacts
from shared.validation.import_rules import ImportRules, SourceContext
from shared.validation.report import Code, Finding
from shared.validation.strings import is_dunder

# Fields that never hold a node with something to check: contexts and operators are singletons,
# the rest are plain strings or numbers (alias nodes are read by the import rules themselves).
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "names", "id", "attr", "name", "asname", "module", "level", "arg",
     "conversion", "is_async", "kind", "type_comment", "type_ignores", "lineno", "tag"}
)
FORMAT_ATTRIBUTES = frozenset({"format", "format_map"})
# Names `_name` reports besides `_`-prefixed ones; any other name is skipped without a call.
_NOTABLE_NAMES = (
    frozenset(policy.FORBIDDEN_BUILTINS) | policy.ATTRIBUTE_BUILTINS | policy.NAME_RESOLVERS | {"type"}
)
# Attribute names with a rule of their own (besides `_`-prefixed ones).
_NOTABLE_ATTRIBUTES = (
    frozenset(policy.FORBIDDEN_ATTRIBUTES) | frozenset(policy.IO_ATTRIBUTES) | policy.PATH_WRITERS
    | policy.PICKLE_DUMPERS | policy.NAME_RESOLVERS | FORMAT_ATTRIBUTES
)
_FORMAT_RECEIVERS = (ast.Constant, ast.Name, ast.Attribute)


@dataclass
class RuleWalker(ImportRules, CallRules, DefinitionRules):
    """Collect every finding of one parsed module, and the facts the bundle rules judge."""

    path: str
    context: SourceContext
    candidates: frozenset[str] = frozenset()  # names an import may bind (see facts.py)
    findings: list[Finding] = field(default_factory=list)
    facts: SourceFacts = field(default_factory=SourceFacts)
    # Nodes already judged by their parent: a call's function, getattr()'s target, super()'s
    # `self.__class__`.
    _checked: set[int] = field(default_factory=set)
    _lookups: set[int] = field(default_factory=set)  # getattr() targets recorded with their name

    def run(self, tree: ast.AST) -> list[Finding]:
        """Walk `tree` once and return the findings in discovery order."""
        handlers = _HANDLERS
        plans = _PLANS
        name_t, constant_t, attribute_t = ast.Name, ast.Constant, ast.Attribute
        hot_names = _NOTABLE_NAMES | self.candidates
        notable_attributes = _NOTABLE_ATTRIBUTES
        stack: list[Any] = [tree]  # nodes, and the str/int/None values some fields hold
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            kind = type(node)
            # The three commonest nodes are leaves (or nearly): test them inline, call only
            # when there may be something to report.
            if kind is name_t:
                name = node.id
                if name in hot_names or name[0] == "_":
                    self._name(node, False)
                continue
            if kind is constant_t:
                value = node.value
                if type(value) is str and ("{" in value or value[:2] == "__"):
                    self._constant(node)
                continue
            if kind is attribute_t:
                # A chain of plain attributes on a plain name (`self.data.close`) needs nothing.
                base = node
                while type(base) is attribute_t:
                    attr = base.attr
                    if attr[0] == "_" or attr in notable_attributes:
                        base = None
                        break
                    base = base.value
                if base is None:
                    base = self._chain(node, hot_names)
                elif type(base) is name_t:
                    name = base.id
                    base = self._chain(node, hot_names) if name in hot_names or name[0] == "_" else None
                if base is not None:
                    push(base)
                continue
            plan = plans.get(kind)
            if plan is None:
                if not isinstance(node, ast.AST):
                    continue  # a str, int or None met inside a node's field
                plan = plans[kind] = (handlers.get(kind), _children_getter(kind))
            handler, getter = plan
            if handler is not None:
                handler(self, node)
            if getter is None:
                continue
            try:
                values = getter(node)
            except AttributeError:  # a hand-built node may lack optional fields
                values = tuple(getattr(node, f, None) for f in _child_fields(kind))
            for value in values:
                if type(value) is list:
                    extend(value)
                elif value is not None:
                    push(value)
        return self.findings

    # -- reporting ---------------------------------------------------------------------------

    def _add(self, code: Code, message: str, node: ast.AST) -> None:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        if type(node) is ast.Attribute and node.end_col_offset is not None:
            # Point at the attribute's name, not at the start of the expression it hangs off.
            line, col = node.end_lineno, node.end_col_offset - len(node.attr)
        self.findings.append(Finding(code, message, self.path, line, None if col is None else col + 1))

    # -- names and attribute chains ----------------------------------------------------------

    def _name(self, node: ast.Name, as_base: bool) -> None:
        name = node.id
        if name in self.candidates and not as_base and type(node.ctx) is ast.Load and id(node) not in self._lookups:
            self.facts.chains.append((name, (), ((node.lineno, node.col_offset + 1),), VALUE))
        reason = policy.FORBIDDEN_BUILTINS.get(name)
        if reason is not None:
            self._add(Code.FORBIDDEN_NAME, f"{name!r} is not allowed: it {reason}", node)
        elif is_dunder(name):
            if name not in policy.ALLOWED_DUNDER_NAMES:
                self._add(Code.FORBIDDEN_NAME, f"the name {name!r} is not allowed", node)
        elif name[0] == "_":
            if type(node.ctx) is not ast.Load:
                self.facts.private_defs.add(name)
        elif id(node) in self._checked or as_base:
            return
        elif name in policy.ATTRIBUTE_BUILTINS:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name!r} may only be called directly", node)
        elif name in policy.NAME_RESOLVERS:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name!r} may only be called directly with literal names", node)
        elif name == "type":
            self._add(Code.DYNAMIC_TYPE, "'type' may only be called with one argument", node)

    def _chain(self, outer: ast.Attribute, hot_names: frozenset[str]) -> ast.AST | None:
        """Judge every attribute of the chain ending at `outer`; return its base to walk, if any."""
        nodes = [outer]
        base = outer.value
        while type(base) is ast.Attribute:
            nodes.append(base)
            base = base.value
        own = (type(base) is ast.Name and base.id in policy.OWN_RECEIVERS) or _own_call(base)
        last = len(nodes) - 1
        for i in range(last, -1, -1):  # innermost first: source order
            attr = nodes[i].attr
            if attr[0] == "_" or attr in _NOTABLE_ATTRIBUTES:
                self._attribute(nodes[i], own and i == last, nodes[i - 1].attr if i else None)
        if type(base) is not ast.Name:
            return base
        root = base.id
        if root in self.candidates and id(outer) not in self._lookups:
            usage = VALUE if type(outer.ctx) is ast.Load else STORE
            positions = ((base.lineno, base.col_offset + 1), *(_attr_position(n) for n in reversed(nodes)))
            self.facts.chains.append((root, tuple(n.attr for n in reversed(nodes)), positions, usage))
        if root in hot_names or root[0] == "_":
            self._name(base, True)
        return None

    def _attribute(self, node: ast.Attribute, own: bool, outer_attr: str | None) -> None:
        attr = node.attr
        if attr[0] == "_":
            if is_dunder(attr):
                if attr == "__class__" and (outer_attr in policy.CLASS_NAME_ATTRIBUTES or id(node) in self._checked):
                    return
                if attr not in policy.ALLOWED_DUNDER_ATTRIBUTES:
                    self._add(Code.DUNDER_ATTRIBUTE,
                              f"attribute {attr!r} is not allowed: dunder attributes reach interpreter internals", node)
            elif own:
                if type(node.ctx) is not ast.Load:
                    self.facts.private_defs.add(attr)
            elif attr not in policy.PUBLIC_UNDERSCORE_ATTRIBUTES:
                self.facts.private_uses.append((attr, *_attr_position(node)))
            return
        if attr in policy.FORBIDDEN_ATTRIBUTES:
            reason = policy.FORBIDDEN_ATTRIBUTES[attr]
            self._add(Code.FORBIDDEN_ATTRIBUTE, f"attribute {attr!r} is not allowed: it {reason}", node)
        elif attr in policy.IO_ATTRIBUTES:
            self._add(Code.FORBIDDEN_IO, f"'.{attr}' is not allowed: it {policy.IO_ATTRIBUTES[attr]}", node)
        elif id(node) in self._checked:
            return
        elif attr in policy.PATH_WRITERS:
            self._add(Code.FORBIDDEN_IO, f"'.{attr}' may only be called at once, without a path (it returns text)",
                      node)
        elif attr in policy.PICKLE_DUMPERS:
            if not own:
                self._add(Code.FORBIDDEN_IO, f"'.{attr}' pickles into a file; {policy.NO_FILES}", node)
        elif attr in policy.NAME_RESOLVERS:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"'{attr}' may only be called directly with literal names", node)
        elif not isinstance(node.value, _FORMAT_RECEIVERS):
            self._add(
                Code.DYNAMIC_FORMAT,
                f"'.{attr}' is only allowed on a string literal or a variable (format fields can read attributes)",
                node,
            )

    def _check_attribute_name(self, attr: str, node: ast.AST, what: str) -> bool:
        if is_dunder(attr):
            if attr not in policy.ALLOWED_DUNDER_ATTRIBUTES:
                self._add(Code.DUNDER_ATTRIBUTE,
                          f"{what} is not allowed: dunder attributes reach interpreter internals", node)
                return False
        elif attr in policy.FORBIDDEN_ATTRIBUTES:
            self._add(Code.FORBIDDEN_ATTRIBUTE, f"{what} is not allowed: it {policy.FORBIDDEN_ATTRIBUTES[attr]}", node)
            return False
        elif attr in policy.IO_ATTRIBUTES:
            self._add(Code.FORBIDDEN_IO, f"{what} is not allowed: it {policy.IO_ATTRIBUTES[attr]}", node)
            return False
        return True


# Per node type: its handler, and one C call fetching every child-bearing field at once.
_HANDLERS: dict[type, Callable[[RuleWalker, Any], None]] = {
    ast.Import: RuleWalker._import,
    ast.ImportFrom: RuleWalker._import_from,
    ast.Call: RuleWalker._call,
    ast.ClassDef: RuleWalker._class,
    ast.FunctionDef: RuleWalker._function,
    ast.AsyncFunctionDef: RuleWalker._function,
    ast.arg: RuleWalker._arg,
    ast.AnnAssign: RuleWalker._annotated,
}
_PLANS: dict[type, tuple[Callable[[RuleWalker, Any], None] | None, Callable[[ast.AST], tuple] | None]] = {}


def _attr_position(node: ast.Attribute) -> tuple[int, int]:
    if node.end_col_offset is None or node.end_lineno is None:
        return node.lineno, node.col_offset + 1
    return node.end_lineno, node.end_col_offset - len(node.attr) + 1


def _own_call(node: ast.AST) -> bool:
    # `super()` and `type(self)` hand back the agent's own object or class.
    if type(node) is not ast.Call or type(node.func) is not ast.Name:
        return False
    if node.func.id == "super":
        return True
    return (
        node.func.id == "type" and len(node.args) == 1
        and type(node.args[0]) is ast.Name and node.args[0].id in policy.OWN_RECEIVERS
    )


def _child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    return tuple(f for f in kind._fields if f not in _LEAF_FIELDS)


def _children_getter(kind: type[ast.AST]) -> Callable[[ast.AST], tuple[object, ...]] | None:
    # attrgetter returns a bare value for one field: wrap that case so callers always get a tuple.
    fields = _child_fields(kind)
    if not fields:
        return None
    if len(fields) == 1:
        get = attrgetter(fields[0])
        return lambda node: (get(node),)
    return attrgetter(*fields)


__all__ = ["LOOKUP", "RuleWalker", "SourceContext", "is_dunder"]
