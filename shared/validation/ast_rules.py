"""The single walk over a module's syntax tree: imports, names, calls, attributes, strings.

Each node is visited once with no recursion (a deep tree cannot overflow the stack), and each
rule is a dictionary dispatch plus set look-ups, so the pass is linear in the size of the tree.
"""

from __future__ import annotations

import _string  # the C helper behind str.format's field parsing; no regexes needed
import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from string import Formatter

from shared.validation import policy
from shared.validation.report import Code, Finding

_FORMATTER = Formatter()
# Fields that never hold a node with something to check: contexts and operators are singletons,
# the rest are plain strings or numbers (alias nodes are read by the import rules themselves).
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "names", "id", "attr", "name", "asname", "module", "level", "arg",
     "conversion", "is_async", "kind", "type_comment", "type_ignores", "lineno", "tag"}
)
_FORMAT_ATTRIBUTES = frozenset({"format", "format_map"})
# Names `_name` reports besides dunders; any other name is skipped without a call.
_NOTABLE_NAMES = frozenset(policy.FORBIDDEN_BUILTINS) | policy.ATTRIBUTE_BUILTINS | {"type"}


@dataclass(frozen=True)
class SourceContext:
    """What a file's imports may refer to besides the allow-list."""

    bundle_modules: frozenset[str] = frozenset()
    package: tuple[str, ...] = ()  # the file's package inside the bundle, () at the root
    declared: frozenset[str] = frozenset()  # distributions named in requirements.txt

    @property
    def bundle_roots(self) -> frozenset[str]:
        return frozenset(name.split(".", 1)[0] for name in self.bundle_modules)


def is_dunder(name: str) -> bool:
    """True for `__x__` names."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


@dataclass
class RuleWalker:
    """Collect every finding of one parsed module."""

    path: str
    context: SourceContext
    findings: list[Finding] = field(default_factory=list)
    _checked_calls: set[int] = field(default_factory=set)

    def run(self, tree: ast.AST) -> list[Finding]:
        """Walk `tree` once and return the findings in discovery order."""
        handlers = {
            ast.Import: self._import,
            ast.ImportFrom: self._import_from,
            ast.Call: self._call,
            ast.ClassDef: self._class,
        }
        # Per node type: its handler and one C call fetching every child-bearing field at once.
        plans: dict[type, tuple[Callable[[ast.AST], None] | None, Callable[[ast.AST], tuple] | None]] = {}
        name_t, constant_t, attribute_t = ast.Name, ast.Constant, ast.Attribute
        notable = _NOTABLE_NAMES
        stack: list[object] = [tree]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            kind = type(node)
            # The three commonest nodes are leaves (or nearly): test them inline, call only
            # when there may be something to report.
            if kind is name_t:
                name = node.id
                if name in notable or name[:2] == "__":
                    self._name(node)
                continue
            if kind is constant_t:
                value = node.value
                if type(value) is str and ("{" in value or value[:2] == "__"):
                    self._constant(node)
                continue
            if kind is attribute_t:
                self._attribute(node)
                push(node.value)
                continue
            plan = plans.get(kind)
            if plan is None:
                if not isinstance(node, ast.AST):
                    continue  # a str, int or None met inside a node's field
                plan = plans[kind] = (handlers.get(kind), _children_getter(kind))
            handler, getter = plan
            if handler is not None:
                handler(node)
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

    # -- imports -----------------------------------------------------------------------------

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)

    def _import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._check_relative(node)
        elif node.module is not None:
            self._check_module(node.module, node)
        for alias in node.names:
            self._check_attribute_name(alias.name, node, f"importing {alias.name!r}")

    def _check_module(self, dotted: str, node: ast.AST) -> None:
        root, *rest = dotted.split(".")
        if root in self.context.bundle_roots:
            return
        reason = policy.FORBIDDEN_MODULES.get(root)
        if reason is not None:
            self._add(Code.FORBIDDEN_IMPORT, f"import of {dotted!r} is not allowed: {root} {reason}", node)
            return
        if root not in policy.ALLOWED_MODULES:
            allowed = ", ".join(sorted(policy.ALLOWED_MODULES - {"__future__"}))
            self._add(Code.UNKNOWN_IMPORT, f"import of {dotted!r} is not allowed; allowed modules: {allowed}", node)
            return
        for part in rest:
            self._check_attribute_name(part, node, f"importing {dotted!r}")
        self._check_declared(root, node)

    def _check_declared(self, root: str, node: ast.AST) -> None:
        for dist, module in policy.REQUIREMENT_MODULES.items():
            if module == root and dist not in policy.PREINSTALLED and dist not in self.context.declared:
                pin = policy.REQUIREMENT_PINS[dist]
                self._add(
                    Code.UNDECLARED_REQUIREMENT,
                    f"{root!r} needs the line '{dist}=={pin}' in requirements.txt",
                    node,
                )

    def _check_relative(self, node: ast.ImportFrom) -> None:
        package = self.context.package
        up = node.level - 1
        if up > len(package):
            self._add(Code.RELATIVE_IMPORT, "relative import reaches outside the bundle", node)
            return
        base = package[: len(package) - up]
        modules = self.context.bundle_modules
        if node.module is not None:
            target = ".".join((*base, node.module))
            if target not in modules:
                self._add(Code.RELATIVE_IMPORT, f"relative import of {target!r}: no such module in the bundle", node)
            return
        for alias in node.names:
            target = ".".join((*base, alias.name))
            if target not in modules and not (base and ".".join(base) in modules):
                self._add(Code.RELATIVE_IMPORT, f"relative import of {target!r}: no such module in the bundle", node)

    # -- names, attributes and calls ---------------------------------------------------------

    def _name(self, node: ast.Name) -> None:
        name = node.id
        reason = policy.FORBIDDEN_BUILTINS.get(name)
        if reason is not None:
            self._add(Code.FORBIDDEN_NAME, f"{name!r} is not allowed: it {reason}", node)
        elif is_dunder(name) and name not in policy.ALLOWED_DUNDER_NAMES:
            self._add(Code.FORBIDDEN_NAME, f"the name {name!r} is not allowed", node)
        elif id(node) in self._checked_calls:
            return
        elif name in policy.ATTRIBUTE_BUILTINS:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name!r} may only be called directly", node)
        elif name == "type":
            self._add(Code.DYNAMIC_TYPE, "'type' may only be called with one argument", node)

    def _attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        self._check_attribute_name(attr, node, f"attribute {attr!r}")
        if attr in _FORMAT_ATTRIBUTES and not (
            type(node.value) is ast.Constant and isinstance(node.value.value, str)
        ):
            self._add(
                Code.DYNAMIC_FORMAT,
                f"'.{attr}' is only allowed on a string literal (format fields can read attributes)",
                node,
            )

    def _check_attribute_name(self, attr: str, node: ast.AST, what: str) -> bool:
        if is_dunder(attr):
            if attr not in policy.ALLOWED_DUNDER_ATTRIBUTES:
                self._add(Code.DUNDER_ATTRIBUTE, f"{what} is not allowed: dunder attributes reach interpreter internals", node)
                return False
        elif attr in policy.FORBIDDEN_ATTRIBUTES:
            self._add(Code.FORBIDDEN_ATTRIBUTE, f"{what} is not allowed: it {policy.FORBIDDEN_ATTRIBUTES[attr]}", node)
            return False
        return True

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if type(func) is not ast.Name:
            return
        name = func.id
        if name in policy.ATTRIBUTE_BUILTINS:
            self._checked_calls.add(id(func))
            self._attribute_builtin(name, node)
        elif name == "type":
            self._checked_calls.add(id(func))
            if len(node.args) != 1 or node.keywords or type(node.args[0]) is ast.Starred:
                self._add(Code.DYNAMIC_TYPE, "type() with three arguments creates classes dynamically", node)

    def _attribute_builtin(self, name: str, node: ast.Call) -> None:
        args = node.args
        if len(args) < 2 or any(type(a) is ast.Starred for a in args[:2]):
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name}() needs an object and a literal attribute name", node)
            return
        target, attr = args[0], args[1]
        on_self = type(target) is ast.Name and target.id == "self"
        if name in policy.MUTATING_ATTRIBUTE_BUILTINS and not on_self:
            self._add(Code.DYNAMIC_ATTRIBUTE, f"{name}() is only allowed on self", node)
            return
        if type(attr) is ast.Constant and isinstance(attr.value, str):
            self._check_attribute_name(attr.value, node, f"{name}() of {attr.value!r}")
        elif not (on_self and _safe_fstring(attr)):
            self._add(
                Code.DYNAMIC_ATTRIBUTE,
                f"{name}() needs a literal attribute name (or an f-string starting with a letter on self)",
                node,
            )

    # -- strings and classes -----------------------------------------------------------------

    def _constant(self, node: ast.Constant) -> None:
        value = node.value
        if type(value) is not str:
            return
        if is_dunder(value) and value.isidentifier() and value != "__main__" and (
            value not in policy.ALLOWED_DUNDER_ATTRIBUTES and value not in policy.ALLOWED_DUNDER_NAMES
        ):
            self._add(Code.DUNDER_STRING, f"the string {value!r} names an interpreter internal", node)
        if "{" in value:
            self._check_format_fields(value, node, depth=0)

    def _check_format_fields(self, text: str, node: ast.AST, depth: int) -> None:
        try:
            parsed = list(_FORMATTER.parse(text))
        except ValueError:
            return  # not a valid format string, so .format() cannot use it
        for _, field_name, spec, _ in parsed:
            if field_name:
                try:
                    _, rest = _string.formatter_field_name_split(field_name)
                    parts = [key for is_attr, key in rest if is_attr]
                except ValueError:
                    parts = []
                for part in parts:
                    if is_dunder(part) or part in policy.FORBIDDEN_ATTRIBUTES:
                        self._add(
                            Code.FORMAT_ATTRIBUTE,
                            f"format field {field_name!r} reads the attribute {part!r}",
                            node,
                        )
            if spec and "{" in spec and depth < 2:
                self._check_format_fields(spec, node, depth + 1)

    def _class(self, node: ast.ClassDef) -> None:
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self._add(Code.METACLASS, f"class {node.name!r} sets a metaclass; agents may not", keyword)


def _child_fields(kind: type) -> tuple[str, ...]:
    return tuple(f for f in kind._fields if f not in _LEAF_FIELDS)


def _children_getter(kind: type) -> Callable[[ast.AST], tuple[object, ...]] | None:
    # attrgetter returns a bare value for one field: wrap that case so callers always get a tuple.
    fields = _child_fields(kind)
    if not fields:
        return None
    if len(fields) == 1:
        get = attrgetter(fields[0])
        return lambda node: (get(node),)
    return attrgetter(*fields)


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
