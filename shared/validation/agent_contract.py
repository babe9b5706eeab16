"""The agent contract: the entry module binds `Agent` to a subclass of bt.Strategy.

`Agent` is a class defined there or a name for one (`Agent = MyStrategy`, an import). Bases are
resolved statically through the import forms people use (`import backtrader as bt`,
`from backtrader import Strategy as S`, ...), through classes defined in the bundle, in the
same module or another one, however deep the chain, and through backtrader itself: a base
reached as `bt.strategies.SMA_CrossOver` is looked up in the installed backtrader (never in user
code) and accepted when it is a Strategy subclass. Only a module's top-level bindings matter,
so a checked file hands over its `contract_statements` (small) rather than its whole tree.
"""

from __future__ import annotations

import ast

from shared.validation import policy
from shared.validation.report import Code, Finding
from shared.validation.resolver import load, resolve_dotted


class _ModuleScope:
    """The top-level names of one bundle module, as fully qualified dotted names."""

    def __init__(self, name: str, statements: list[ast.stmt], package: tuple[str, ...]) -> None:
        self.name = name
        self.aliases: dict[str, str] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.positions: dict[str, tuple[int, int]] = {}
        for stmt in statements:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".", 1)[0]
                        self.aliases[root] = root
            elif isinstance(stmt, ast.ImportFrom):
                source = _absolute(stmt, package)
                for alias in stmt.names:
                    if alias.name != "*":
                        qualified = f"{source}.{alias.name}" if source else alias.name
                        self.aliases[alias.asname or alias.name] = qualified
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
                self.aliases[stmt.name] = f"{name}.{stmt.name}"
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                assigned = self.qualify(stmt.value)
                if isinstance(target, ast.Name) and assigned:
                    self.aliases[target.id] = assigned
                    self.positions[target.id] = (stmt.lineno, stmt.col_offset + 1)

    def qualify(self, expr: ast.expr) -> str | None:
        """Return the dotted name `expr` refers to, or None when it is not a plain name."""
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.qualify(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def contract_statements(tree: ast.Module) -> list[ast.stmt]:
    """The top-level statements that can bind a name the contract resolves, in source order.

    Imports, plain-name assignments and class definitions (their bodies dropped: only the name,
    bases and position matter), including those under a top-level `if` or `try`.
    """
    kept: list[ast.stmt] = []
    for stmt in _top_level(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom) or _binds_a_name(stmt):
            kept.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            kept.append(
                ast.ClassDef(name=stmt.name, bases=stmt.bases, keywords=[], body=[], decorator_list=[],
                             lineno=stmt.lineno, col_offset=stmt.col_offset)
            )
    return kept


def _binds_a_name(stmt: ast.stmt) -> bool:
    # `Base = bt.Strategy`: the only assignments `_ModuleScope.qualify` can follow.
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Name | ast.Attribute)
    )


def check_agent(
    modules: dict[str, list[ast.stmt]], packages: dict[str, tuple[str, ...]], entry_path: str
) -> list[Finding]:
    """Check that module `agent` defines a class Agent whose bases reach bt.Strategy.

    `modules` maps each parsed bundle module to its `contract_statements`.
    """
    scopes = {name: _ModuleScope(name, stmts, packages.get(name, ())) for name, stmts in modules.items()}
    entry = scopes.get("agent")
    if entry is None:
        return []  # the entry module did not parse; its syntax finding says why
    agent = entry.classes.get(policy.AGENT_CLASS)
    alias = entry.aliases.get(policy.AGENT_CLASS)
    if agent is None and alias is None:
        message = f"{entry_path} must define `class {policy.AGENT_CLASS}(bt.Strategy)` at top level"
        return [Finding(Code.MISSING_AGENT, message, entry_path)]
    if agent is not None:
        if _derives_from_strategy(entry, agent, scopes, set()):
            return []
        line, col = agent.lineno, agent.col_offset + 1
    else:
        assert alias is not None
        if _is_strategy(alias, scopes, set()):
            return []
        line, col = entry.positions.get(policy.AGENT_CLASS, (1, 1))
    message = (
        f"class {policy.AGENT_CLASS} must subclass backtrader's Strategy "
        "(e.g. `class Agent(bt.Strategy)` after `import backtrader as bt`)"
    )
    return [Finding(Code.AGENT_NOT_STRATEGY, message, entry_path, line, col)]


def _derives_from_strategy(
    scope: _ModuleScope, cls: ast.ClassDef, scopes: dict[str, _ModuleScope], seen: set[str]
) -> bool:
    key = f"{scope.name}.{cls.name}"
    if key in seen:
        return False  # a cycle through bundle classes never reaches backtrader
    seen.add(key)
    for base in cls.bases:
        qualified = scope.qualify(base)
        if qualified is not None and _is_strategy(qualified, scopes, seen):
            return True
    return False


def _is_strategy(qualified: str, scopes: dict[str, _ModuleScope], seen: set[str]) -> bool:
    """True when the dotted name `qualified` is a Strategy subclass (bundle or backtrader)."""
    if qualified in policy.STRATEGY_QUALNAMES:
        return True
    module, _, name = qualified.rpartition(".")
    owner = scopes.get(module)
    if owner is not None:
        if name in owner.classes:
            return _derives_from_strategy(owner, owner.classes[name], scopes, seen)
        alias = owner.aliases.get(name)  # a name the bundle module re-exports
        if alias is None or alias in seen:
            return False
        seen.add(alias)
        return _is_strategy(alias, scopes, seen)
    if qualified.split(".", 1)[0] in {m.split(".", 1)[0] for m in scopes}:
        return False  # a bundle module's name that is no class
    backtrader = load("backtrader")
    value = resolve_dotted(qualified).value
    return (
        backtrader is not None and isinstance(value, type)
        and issubclass(value, backtrader.Strategy)
    )


def _absolute(node: ast.ImportFrom, package: tuple[str, ...]) -> str:
    if not node.level:
        return node.module or ""
    base = package[: max(len(package) - (node.level - 1), 0)]
    return ".".join((*base, node.module) if node.module else base)


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    # Conditional imports (`try: import x except ImportError`) still bind module-level names.
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.If):
            out.extend(_top_level(stmt.body) + _top_level(stmt.orelse))
        elif isinstance(stmt, ast.Try):
            out.extend(_top_level(stmt.body))
    return out
